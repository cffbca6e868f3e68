import {
  orphanedPrivateEngines,
  privateEnginePrerequisites,
  stopPrivateEngine,
} from "../../harness/engine/private-engine.js";
import { findStaticBusybox } from "../../harness/static-busybox.js";
import { docknetLeftovers } from "./leftovers.js";

/**
 * The integration tests run on private engines: they need root, dockerd and a
 * static busybox (bash .ci/run installs them). Afterwards nothing of docknet's
 * may remain on the machine.
 */
export default async function setup(): Promise<() => void> {
  const missing = await privateEnginePrerequisites();
  if (missing) throw new Error(`integration tests cannot run: ${missing}`);
  findStaticBusybox();
  // Engines of runs that were killed earlier (their owner is gone) are removed the way `docknet clean` does.
  for (const orphan of orphanedPrivateEngines()) await stopPrivateEngine(orphan);
  const before = docknetLeftovers();
  if (before.length) throw new Error(`docknet leftovers before the tests (run: docknet clean):\n${before.join("\n")}`);
  return () => {
    const after = docknetLeftovers();
    if (after.length) throw new Error(`the tests left docknet resources behind:\n${after.join("\n")}`);
  };
}
