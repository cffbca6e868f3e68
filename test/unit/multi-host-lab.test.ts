import { describe, expect, test } from "vitest";
import { newLabId, validateLabSize } from "../../harness/engine/multi-host-lab.js";
import { ATTACH_DEADLINE } from "../../harness/lab/cluster.js";
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
