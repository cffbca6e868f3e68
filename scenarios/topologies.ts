import type { LabScope } from "../harness/lab/lab.js";
import { topology } from "../harness/lab/shared-topology.js";

/**
 * The topologies read-only scenarios share (`lab.shared(...)`): built once per run, like the
 * clients and echo servers of `cilium connectivity test`. A scenario that uses one only observes
 * it; one that changed it would fail saying what it changed (harness/lab/shared-topology.ts).
 */

/** Two containers run without --network, on the default bridge: a client, then a server on :8080 started after it. */
export const defaultBridgePair = topology("default bridge pair", async (lab: LabScope) => {
  const client = await lab.probe("client").start();
  const server = await lab.probe("server").serving(8080).start();
  return { client, server };
});

/**
 * A user-defined bridge "app" with a database container (alias "database"; serving 80, 5432 and
 * 6379, publishing nothing) and a client.
 */
export const userBridgePair = topology("user bridge pair", async (lab: LabScope) => {
  const net = await lab.network("app");
  const [db, client] = await Promise.all([
    lab
      .probe("db")
      .on(net, { aliases: ["database"] })
      .serving(80)
      .serving(5432)
      .serving(6379)
      .start(),
    lab.probe("client").on(net).start(),
  ]);
  return { net, db, client };
});
