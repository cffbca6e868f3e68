import { EngineUnavailable } from "../exit-codes.js";
import { findProgram } from "../host-command.js";
import { pingEngine, resolveCurrentDockerHost, type DockerHostChoice } from "./docker-host.js";
import type { Engine, EngineChoice } from "./engine.js";
import { isSshAddress, openSshTunnel } from "./ssh-tunnel.js";
import { privateEnginePrerequisites, startPrivateEngine, type PrivateEngineOptions } from "./private-engine.js";

/**
 * `auto`: the current engine when it answers, else a private one when dockerd
 * exists and we are root, else one line saying what was tried and how to fix it.
 */
export async function selectEngine(choice: EngineChoice, privateOptions: PrivateEngineOptions = {}): Promise<Engine> {
  if (choice === "private") return startPrivateEngine(privateOptions);
  if (choice === "rootless") return startPrivateEngine({ ...privateOptions, rootless: true });
  if (choice === "podman")
    return startPrivateEngine({
      ...privateOptions,
      podman: privateOptions.podman ?? (await findProgram("podman")) ?? "/usr/bin/podman",
    });
  const current = resolveCurrentDockerHost();
  if (isSshAddress(current.host)) return sshEngine(current);
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
  if (problem.startsWith("permission denied"))
    throw new EngineUnavailable(`cannot use the engine at ${current.host} (from ${current.source}): ${problem}`);
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

/**
 * An engine on another host, named by ssh:// (DOCKER_HOST or a docker context): reached through
 * docknet's own socket that carries each connection over ssh (harness/engine/ssh-tunnel.ts). It is
 * never replaced by a private engine: the user named it.
 */
async function sshEngine(current: DockerHostChoice): Promise<Engine> {
  let tunnel;
  try {
    tunnel = await openSshTunnel(current.host);
  } catch (error) {
    throw new EngineUnavailable(
      `cannot use the engine at ${current.host} (from ${current.source}): ${(error as Error).message}`,
    );
  }
  const problem = await pingEngine(tunnel.dockerHost);
  if (problem !== undefined) {
    const said = tunnel.lastError();
    await tunnel.close();
    throw new EngineUnavailable(
      `no engine answers at ${current.host} (from ${current.source}): ${said ? `ssh: ${said}` : problem}`,
    );
  }
  return {
    kind: "current",
    dockerHost: tunnel.dockerHost,
    remote: current.host,
    description: `current engine at ${current.host} (from ${current.source}, through ssh)`,
    lost: async () => {
      const gone = await pingEngine(tunnel.dockerHost);
      return gone === undefined
        ? undefined
        : `the engine at ${current.host} stopped answering mid-run: ${tunnel.lastError() || gone}`;
    },
    stop: () => tunnel.close(),
  };
}

/**
 * The current engine's API as an address on this machine: its own, or docknet's ssh socket for an
 * ssh:// engine (closed by `close`); undefined with the reason when it does not answer.
 */
export async function currentEngineApi(
  current: DockerHostChoice = resolveCurrentDockerHost(),
): Promise<{ dockerHost: string; close(): Promise<void> } | { problem: string }> {
  if (!isSshAddress(current.host)) {
    const problem = await pingEngine(current.host);
    return problem === undefined ? { dockerHost: current.host, close: async () => {} } : { problem };
  }
  try {
    const engine = await sshEngine(current);
    return { dockerHost: engine.dockerHost, close: () => engine.stop() };
  } catch (error) {
    return { problem: (error as Error).message };
  }
}
