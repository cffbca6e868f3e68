import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { DurationHistory } from "../../harness/duration-history.js";
import type { ScenarioResult } from "../../harness/results.js";
import { tempDir } from "../temp-dir.js";

const result = (id: string, status: ScenarioResult["status"], durationMs: number, attempt = 1): ScenarioResult => ({
  id,
  title: id,
  area: "t",
  doc: "d",
  tags: [],
  attempt,
  status,
  durationMs,
  evidence: [],
});

describe("the duration history", () => {
  test("keeps each engine version's first-attempt durations of scenarios that ran to a verdict", () => {
    const file = join(tempDir("durations"), "cache", "durations.json");
    expect(DurationHistory.load("28.5.2", file).hints().size).toBe(0);
    DurationHistory.load("28.5.2", file).record([
      result("A", "passed", 1234.4),
      result("B", "failed", 500),
      result("C", "skipped", 0),
      result("A", "passed", 99_999, 2),
    ]);
    DurationHistory.load("20.10.24", file).record([result("A", "passed", 7000)]);
    expect([...DurationHistory.load("28.5.2", file).hints()]).toEqual([
      ["A", 1234],
      ["B", 500],
    ]);
    expect([...DurationHistory.load("20.10.24", file).hints()]).toEqual([["A", 7000]]);
    expect(JSON.parse(readFileSync(file, "utf8"))["28.5.2"].C).toBeUndefined();
  });

  test("a file that is not JSON gives no hints and is replaced by the next record; an unwritable one costs nothing", () => {
    const dir = tempDir("durations");
    const file = join(dir, "durations.json");
    writeFileSync(file, "{ not json");
    expect(DurationHistory.load("28.5.2", file).hints().size).toBe(0);
    DurationHistory.load("28.5.2", file).record([result("A", "passed", 10)]);
    expect([...DurationHistory.load("28.5.2", file).hints()]).toEqual([["A", 10]]);
    const unwritable = join(file, "below-a-file", "durations.json");
    expect(() => DurationHistory.load("28.5.2", unwritable).record([result("A", "passed", 10)])).not.toThrow();
  });
});
