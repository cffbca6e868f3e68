import { cleanLeftovers } from "../clean.js";
import { ExitCode } from "../exit-codes.js";
import { helperRoute, runAsRootThroughEngine } from "./root-helper.js";

/**
 * docknet clean. What a dead run leaves on the engine's host (namespaces,
 * private engines, state files) is root's: a user who is not root but may
 * use a local engine cleans through the helper container, as runs do.
 */
export async function cleanAction(flags: { all?: boolean; helper: boolean }): Promise<number> {
  const route = await helperRoute(flags.helper);
  // A remote host's leftovers are its runs' own to clean: each cleans up when its user's docknet is gone.
  if (route && "engine" in route && !route.remote) {
    const outcome = await runAsRootThroughEngine(route, ["clean", ...(flags.all ? ["--all"] : [])], {
      why: "docknet is not root",
      color: false,
    });
    if (outcome.ran) return outcome.code;
    process.stderr.write(`docknet: ${outcome.refused}: cleaning what this user can reach\n`);
  }
  if (route && "engine" in route) await route.close();
  process.stderr.write(`${await cleanLeftovers({ all: Boolean(flags.all) })}\n`);
  return ExitCode.ok;
}
