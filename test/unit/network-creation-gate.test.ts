import { describe, expect, test } from "vitest";
import { NetworkCreationGate } from "../../harness/lab/network-creation-gate.js";

/** Work that runs until the test lets it end, recording when it began and ended. */
function job(log: string[], name: string) {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return {
    run: async () => {
      log.push(`${name} begins`);
      await done;
      log.push(`${name} ends`);
      return name;
    },
    finish,
  };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("NetworkCreationGate", () => {
  test("a steady check waits for the creation under way, and a creation asked meanwhile waits for the check", async () => {
    const gate = new NetworkCreationGate();
    const log: string[] = [];
    const [create, check, later] = [job(log, "create"), job(log, "check"), job(log, "later create")];
    const results = [gate.creating(create.run), gate.steady(check.run), gate.creating(later.run)];
    await settle();
    expect(log).toEqual(["create begins"]);
    create.finish();
    await settle();
    expect(log).toEqual(["create begins", "create ends", "check begins"]);
    check.finish();
    await settle();
    expect(log.slice(3)).toEqual(["check ends", "later create begins"]);
    later.finish();
    expect(await Promise.all(results)).toEqual(["create", "check", "later create"]);
  });

  test("work of one side runs together; the other side's waiter keeps later arrivals of the first side out", async () => {
    const gate = new NetworkCreationGate();
    const log: string[] = [];
    const [one, two, check, three] = [job(log, "one"), job(log, "two"), job(log, "check"), job(log, "three")];
    const results = [gate.creating(one.run), gate.creating(two.run), gate.steady(check.run), gate.creating(three.run)];
    await settle();
    expect(log).toEqual(["one begins", "two begins"]);
    one.finish();
    await settle();
    expect(log).not.toContain("check begins");
    two.finish();
    await settle();
    expect(log.at(-1)).toBe("check begins");
    expect(log).not.toContain("three begins");
    check.finish();
    await settle();
    expect(log.at(-1)).toBe("three begins");
    three.finish();
    await Promise.all(results);
  });

  test("steady checks asked in a row run together, and work that fails still lets the other side in", async () => {
    const gate = new NetworkCreationGate();
    const log: string[] = [];
    const create = job(log, "create");
    const creating = gate.creating(create.run);
    const failing = gate.steady(() => Promise.reject(new Error("probe gone")));
    const [a, b] = [job(log, "a"), job(log, "b")];
    const checks = [gate.steady(a.run), gate.steady(b.run)];
    create.finish();
    await creating;
    await expect(failing).rejects.toThrow("probe gone");
    await settle();
    expect(log.slice(-2)).toEqual(["a begins", "b begins"]);
    const after = job(log, "after");
    const creatingAfter = gate.creating(after.run);
    a.finish();
    b.finish();
    await Promise.all(checks);
    await settle();
    expect(log.at(-1)).toBe("after begins");
    after.finish();
    await creatingAfter;
  });
});
