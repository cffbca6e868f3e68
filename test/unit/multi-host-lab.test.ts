import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { newLabId, validateLabSize } from "../../harness/engine/multi-host-lab.js";
import type Docker from "dockerode";
import { joinSwarm } from "../../harness/engine/swarm-membership.js";
import { ATTACH_DEADLINE, type Cluster, type ClusterNode, ClusterScope } from "../../harness/lab/cluster.js";
import { runsOnCluster } from "../../harness/scenario.js";
import { ALL_SCENARIOS } from "../../scenarios/index.js";

describe("the multi-host lab", () => {
  test("a lab has 2 to 9 hosts, and from 1 manager to all of them", () => {
    expect(validateLabSize(3, 1)).toBeUndefined();
    expect(validateLabSize(9, 9)).toBeUndefined();
    expect(validateLabSize(1, 1)).toMatch(/from 2 to 9 \(got 1\)/);
    expect(validateLabSize(10, 1)).toMatch(/from 2 to 9/);
    expect(validateLabSize(2.5, 1)).toMatch(/whole number/);
    expect(validateLabSize(3, 0)).toMatch(/--managers must be from 1 to the number of hosts, 3 \(got 0\)/);
    expect(validateLabSize(3, 4)).toMatch(/\(got 4\)/);
  });

  test("a lab id always has a letter, so that --lab ID never reads as a number of hosts", () => {
    // Seen: lab 294183 was taken for 294183 hosts ("--lab must be a whole number from 2 to 9").
    const draws = ["294183", "000000", "29418a"];
    expect(newLabId(() => draws.shift()!)).toBe("29418a");
    for (let i = 0; i < 200; i++) expect(newLabId()).toMatch(/^(?=.*[a-f])[0-9a-f]{6}$/);
  });

  test("exactly the overlay scenarios run on the swarm", () => {
    const onCluster = ALL_SCENARIOS.filter(runsOnCluster);
    expect(onCluster.length).toBeGreaterThanOrEqual(15);
    expect(onCluster.every((s) => s.area === "overlay")).toBe(true);
    expect(ALL_SCENARIOS.filter((s) => s.area === "overlay" && !runsOnCluster(s))).toEqual([]);
  });

  test("both of dockerd's words for a swarm attachment that outlived its deadline are known; other refusals are not retried", () => {
    expect(
      ATTACH_DEADLINE.test(
        "attaching to network failed, make sure your network options are correct and check manager logs: context deadline exceeded",
      ),
    ).toBe(true);
    expect(ATTACH_DEADLINE.test("Could not attach to network dn-1a2b3c-ov-08-net: context deadline exceeded")).toBe(
      true,
    );
    expect(ATTACH_DEADLINE.test("Could not attach to network dn-1a2b3c-ov-08-net: rpc error: code = NotFound")).toBe(
      false,
    );
    expect(ATTACH_DEADLINE.test("attaching to network failed: network not found")).toBe(false);
  });
});

describe("a node leaving the swarm", () => {
  const deadline = new Error("(HTTP code 503) unexpected - context deadline exceeded");

  /** A node whose leaves answer in turn from `answers`, and whose swarm state reads in turn from `states`. */
  function node(answers: (Error | undefined)[], states: string[]) {
    const calls = { leave: 0 };
    const docker = {
      swarmLeave: async () => {
        calls.leave++;
        const answer = answers.shift();
        if (answer) throw answer;
      },
      // Each look moves the clock past the wait's deadline, so the test spends no real time waiting.
      info: async () => {
        vi.setSystemTime(Date.now() + 60_000);
        return { Swarm: { LocalNodeState: states.shift() ?? "active" } };
      },
    };
    const clusterNode = { name: "node2", docker, dockerHost: "unix:///n2.sock", address: "10.0.0.2" };
    const cluster = { faults: new Set(), control: {}, nodes: [clusterNode] };
    // A stand-in Cluster: leave() reads only its faults and control, and the node's docker.
    const scope = new ClusterScope(cluster as unknown as Cluster, "OV-03");
    return { scope, clusterNode: clusterNode as unknown as ClusterNode, calls };
  }

  beforeEach(() => vi.useFakeTimers({ toFake: ["Date"] }));
  afterEach(() => vi.useRealTimers());

  test("a leave that outlived dockerd's deadline but happened is accepted, saying so", async () => {
    const { scope, clusterNode, calls } = node([deadline], ["inactive"]);
    const left = await scope.leave(clusterNode);
    expect(left.value).toBe("accepted");
    expect(left.how).toMatch(
      /sent once, refused once \("[^"]*context deadline exceeded"\); the node's swarm state is now inactive$/,
    );
    expect(calls.leave).toBe(1);
  });

  test("a node still in the swarm after the deadline is sent the leave again", async () => {
    const { scope, clusterNode, calls } = node([deadline, deadline, undefined], ["active", "active"]);
    const left = await scope.leave(clusterNode);
    expect(left).toMatchObject({ value: "accepted", how: expect.stringMatching(/sent 3 times, refused 2 times/) });
    expect(calls.leave).toBe(3);
  });

  test("a node that never leaves is the observation, with its state; other refusals are not retried", async () => {
    const stuck = node([deadline, deadline, deadline], []);
    const never = await stuck.scope.leave(stuck.clusterNode);
    expect(never.value).toMatch(/context deadline exceeded/);
    expect(never.how).toMatch(/sent 3 times, refused 3 times .*; the node's swarm state stayed "active"$/);
    expect(stuck.calls.leave).toBe(3);

    const refused = node([new Error("This node is not part of a swarm")], []);
    expect((await refused.scope.leave(refused.clusterNode)).value).toMatch(/not part of a swarm/);
    expect(refused.calls.leave).toBe(1);
  });
});

describe("a node joining the swarm", () => {
  const waitOver = new Error(
    'Timeout was reached before node joined. The attempt to join the swarm will continue in the background. Use the "docker info" command to see the current swarm status of your node.',
  );
  const nodeAnswering = (answer: Error | undefined, states: string[]) =>
    ({
      swarmJoin: async () => {
        if (answer) throw answer;
      },
      // Each look moves the clock a minute on: the wait's deadline passes without real time spent.
      info: async () => {
        vi.setSystemTime(Date.now() + 60_000);
        return { Swarm: { LocalNodeState: states.shift() ?? "pending" } };
      },
    }) as unknown as Docker;

  beforeEach(() => vi.useFakeTimers({ toFake: ["Date"] }));
  afterEach(() => vi.useRealTimers());

  test("a join that went on past dockerd's 20 s wait counts once the node is active", async () => {
    await expect(joinSwarm(nodeAnswering(waitOver, ["active"]), {})).resolves.toBeUndefined();
  });

  test("a node that stays pending is an error naming its state; other refusals are the engine's own", async () => {
    await expect(joinSwarm(nodeAnswering(waitOver, []), {})).rejects.toThrow(/stayed "pending"/);
    await expect(joinSwarm(nodeAnswering(new Error("invalid join token"), []), {})).rejects.toThrow(
      /invalid join token/,
    );
  });
});
