import { cleanLeftovers } from "../clean.js";
import { pingEngine, resolveCurrentDockerHost } from "../engine/docker-host.js";
import { ExitCode } from "../exit-codes.js";
import { runsThroughHelper } from "../vantage.js";
import { runAsRootThroughEngine } from "./root-helper.js";

/**
 * docknet clean. What a dead run leaves on the engine's host (namespaces,
 * private engines, state files) is root's: a user who is not root but may
 * use a local engine cleans through the helper container, as runs do.
 */
export async function cleanAction(flags: { all?: boolean; helper: boolean }): Promise<number> {
  const current = resolveCurrentDockerHost();
  if (process.getuid?.() !== 0 && !runsThroughHelper() && flags.helper && (await pingEngine(current.host)) === undefined) {
    const outcome = await runAsRootThroughEngine(current, ["clean", ...(flags.all ? ["--all"] : [])], { why: "docknet is not root", color: false });
    if (outcome.ran) return outcome.code;
    process.stderr.write(`docknet: ${outcome.refused}: cleaning what this user can reach\n`);
  }
  process.stderr.write(`${await cleanLeftovers({ all: Boolean(flags.all) })}\n`);
  return ExitCode.ok;
}
