import type Docker from "dockerode";
import { errorText } from "../lab/docker-api.js";
import { waitFor } from "../polling.js";

/**
 * dockerd's answer when its swarm node did not stop within the 15 s it allows
 * (daemon/cluster/noderunner.go, Stop): the node may still be in the swarm.
 */
const NODE_STOP_DEADLINE = /context deadline exceeded/i;

/** What `docker swarm leave --force` came to on one node. */
export interface SwarmLeave {
  /** The node is out of the swarm. */
  readonly left: boolean;
  /** How many times the leave was sent. */
  readonly attempts: number;
  /** How many of those dockerd refused, and its last refusal. */
  readonly refused: number;
  readonly refusal?: string;
  /** The node's swarm state as last read after a refusal ("inactive" once it left). */
  readonly state?: string;
}

/**
 * `docker swarm leave --force`, as a person would take it on a loaded machine: an answer of
 * "context deadline exceeded" is not the end, since the node may still finish stopping; its own
 * state decides, and a node that stayed in the swarm is sent the leave again.
 */
export async function leaveSwarm(docker: Docker, attempts = 3): Promise<SwarmLeave> {
  let refusal: string | undefined;
  for (let attempt = 1; ; attempt++) {
    try {
      await docker.swarmLeave({ force: true });
      return {
        left: true,
        attempts: attempt,
        refused: attempt - 1,
        ...(refusal ? { refusal, state: "inactive" } : {}),
      };
    } catch (error) {
      refusal = errorText(error);
      if (!NODE_STOP_DEADLINE.test(refusal)) return { left: false, attempts: attempt, refused: attempt, refusal };
      const { reached: left, state } = await waitForNodeState(docker, "inactive", 15_000, 1000);
      if (left || attempt === attempts) return { left, attempts: attempt, refused: attempt, refusal, state };
    }
  }
}

/**
 * dockerd stops waiting for a join after 20 s (daemon/cluster/swarm.go, swarmConnectTimeout) and
 * answers so, while the join goes on in the background.
 */
const JOIN_GOES_ON = /Timeout was reached before node joined/i;

/**
 * `docker swarm join`; a join that outlived dockerd's wait is followed through the node's own state
 * until it is active, as the answer itself advises ("use docker info"). Throws when the node did not
 * get there, saying where it stayed.
 */
export async function joinSwarm(docker: Docker, request: Record<string, unknown>, timeoutMs = 60_000): Promise<void> {
  try {
    await docker.swarmJoin(request);
    return;
  } catch (error) {
    if (!JOIN_GOES_ON.test(errorText(error))) throw error;
  }
  const { reached, state } = await waitForNodeState(docker, "active", timeoutMs, 500);
  if (!reached) throw new Error(`the join went on past dockerd's 20 s wait and the node stayed "${state}"`);
}

/** Polls the node's own swarm state (`docker info`) until it is `wanted`; says the state last read either way. */
async function waitForNodeState(
  docker: Docker,
  wanted: string,
  timeoutMs: number,
  intervalMs: number,
): Promise<{ reached: boolean; state: string }> {
  let state = "";
  const reached = await waitFor(
    async () => {
      const info = (await docker.info()) as { Swarm?: { LocalNodeState?: string } };
      state = info.Swarm?.LocalNodeState ?? "";
      return state === wanted;
    },
    timeoutMs,
    intervalMs,
  );
  return { reached, state };
}
