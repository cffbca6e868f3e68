import { describe, expect, test } from "vitest";
import {
  Check,
  CheckFailed,
  derive,
  describe as describeValue,
  type Evidence,
  type Observation,
} from "../../harness/evidence.js";

const observed = <T>(value: T): Observation<T> => ({ value, how: "docker exec c thing", raw: "raw output" });

function run<T>(observation: Observation<T>, use: (check: Check<T>) => unknown): Evidence[] {
  const evidence: Evidence[] = [];
  try {
    use(new Check("the claim", observation, (e) => evidence.push(e)));
  } catch (error) {
    if (!(error instanceof CheckFailed)) throw error;
  }
  return evidence;
}

describe("checks record evidence", () => {
  test("a holding claim records ok evidence with the command", () => {
    expect(run(observed("open"), (c) => c.is("open"))).toEqual([
      {
        claim: "the claim",
        expected: "open",
        observed: "open",
        how: "docker exec c thing",
        raw: "raw output",
        ok: true,
      },
    ]);
  });

  test("a failing claim throws CheckFailed carrying expected and observed", () => {
    const check = new Check("TCP to db:5432", observed("timeout"), () => {});
    expect(() => check.is("open")).toThrowError(CheckFailed);
    expect(() => check.is("open")).toThrowError("TCP to db:5432: expected open, observed timeout");
  });

  test("each kind of claim can fail", () => {
    const failed = (evidence: Evidence[]) => evidence.map((e) => e.ok);
    expect(failed(run(observed(["lo", "eth0"]), (c) => c.includes("eth1")))).toEqual([false]);
    expect(failed(run(observed(["lo", "eth0"]), (c) => c.excludes("eth0")))).toEqual([false]);
    expect(failed(run(observed("open"), (c) => c.isNot("open")))).toEqual([false]);
    expect(failed(run(observed("refused"), (c) => c.isOneOf(["open", "timeout"])))).toEqual([false]);
    expect(failed(run(observed("abc"), (c) => c.matches(/x/)))).toEqual([false]);
    expect(failed(run(observed(3), (c) => c.satisfies("more than 5", (v) => v > 5)))).toEqual([false]);
    expect(failed(run(observed({ a: [1] }), (c) => c.is({ a: [2] })))).toEqual([false]);
  });

  test("values read plainly in evidence", () => {
    expect(describeValue(["a", "b"])).toBe("[a, b]");
    expect(describeValue([])).toBe("[]");
    expect(describeValue("")).toBe('""');
    expect(describeValue(undefined)).toBe("nothing");
    expect(describeValue({ "82/tcp": [] })).toBe('{"82/tcp":[]}');
  });

  test("derive keeps the command and output", () => {
    expect(derive(observed({ outcome: "reached" }), (p) => p.outcome)).toEqual({
      value: "reached",
      how: "docker exec c thing",
      raw: "raw output",
    });
  });
});
