import { EngineUnavailable } from "../exit-codes.js";
import { pingEngine, resolveCurrentDockerHost } from "./docker-host.js";
import type { Engine, EngineChoice } from "./engine.js";
import { privateEnginePrerequisites, startPrivateEngine, type PrivateEngineOptions } from "./private-engine.js";

/**
 * `auto`: the current engine when it answers, else a private one when dockerd
 * exists and we are root, else one line saying what was tried and how to fix it.
 */
export async function selectEngine(choice: EngineChoice, privateOptions: PrivateEngineOptions = {}): Promise<Engine> {
  if (choice === "private") return startPrivateEngine(privateOptions);
  const current = resolveCurrentDockerHost();
  const problem = await pingEngine(current.host);
  if (problem === undefined) {
    return {
      kind: "current",
      dockerHost: current.host,
      description: `current engine at ${current.host} (from ${current.source})`,
      lost: async () => {
        const gone = await pingEngine(current.host);
        return gone === undefined ? undefined : `the engine at ${current.host} stopped answering mid-run: ${gone}`;
      },
      stop: async () => {},
    };
  }
  // An engine that is there but refuses this user is theirs to fix (the group to join), not a reason for a private one.
  if (problem.startsWith("permission denied")) throw new EngineUnavailable(`cannot use the engine at ${current.host} (from ${current.source}): ${problem}`);
  // An engine the user named (DOCKER_HOST, a context) that does not answer is
  // their mistake to see, not something to paper over with a private engine.
  if (choice === "current" || current.source !== "default socket") {
    throw new EngineUnavailable(`no engine answers at ${current.host} (from ${current.source}): ${problem}`);
  }
  const missing = await privateEnginePrerequisites(privateOptions.dockerd);
  if (missing) {
    throw new EngineUnavailable(`no engine answers at ${current.host} (from ${current.source}), and ${missing}`);
  }
  return startPrivateEngine(privateOptions);
}
