import { readFileSync } from "node:fs";
import { join } from "node:path";
import { XMLParser } from "fast-xml-parser";
import { describe, expect, test } from "vitest";
import { tempDir } from "../temp-dir.js";
import { docknetLeftovers } from "./leftovers.js";
import { docknet } from "./run-cli.js";

interface Engine {
  version: string;
  source: "system" | "cache";
  suite?: string;
}

interface MatrixJson {
  engines: { spec: string; version?: string; problem?: string }[];
  rows: { id: string; cells: Record<string, string>; changes: { version: string; on: string[]; off: string[] }[] }[];
  runs: { engine: { engineVersion: string }; results: { id: string; status: string; reason?: string }[] }[];
}

/**
 * The whole suite on the system's engine and on the engines Debian's stable
 * and unstable suites ship (fetched by the test command's set-up), as one
 * matrix: every scenario passes or skips with a reason on each of them.
 */
describe("the engine matrix: the whole suite on every engine at hand", () => {
  test("docknet run --matrix SYSTEM,STABLE,UNSTABLE", async () => {
    const engines = JSON.parse((await docknet(["engine", "list", "--json"])).stdout) as Engine[];
    const majorMinor = (v: string) => v.split(".").slice(0, 2).join(".");
    const specs = [...new Set(engines.map((e) => majorMinor(e.version)))];
    expect(specs.length, `engines at hand: ${JSON.stringify(engines)}`).toBeGreaterThanOrEqual(3);
    const dir = tempDir("matrix");
    const out = await docknet(["run", "--matrix", specs.join(","), "--json", join(dir, "matrix.json"), "--junit", join(dir, "junit.xml")]);
    const matrix = JSON.parse(readFileSync(join(dir, "matrix.json"), "utf8")) as MatrixJson;
    expect(matrix.engines.filter((e) => e.problem)).toEqual([]);
    for (const run of matrix.runs) {
      for (const r of run.results.filter((x) => x.status !== "passed")) {
        expect(`${run.engine.engineVersion} ${r.id}: ${r.status}`).toMatch(/: skipped$/);
        expect(r.reason).toMatch(/^engine /);
      }
    }
    expect(out.code, out.stderr.slice(-3000)).toBe(0);
    expect(out.stderr).toMatch(/Engine matrix: /);

    // The upgrade rehearsal names the documented changes between these engines, with their sources.
    const crossed = (id: string, version: string) => matrix.rows.find((r) => r.id === id)?.changes.some((c) => c.version === version);
    const newest = matrix.engines.map((e) => e.version ?? "").sort((a, b) => a.localeCompare(b, undefined, { numeric: true })).at(-1)!;
    if (Number(newest.split(".")[0]) >= 28) {
      expect(crossed("DNS-10", "28.0")).toBe(true);
      expect(crossed("OPT-05", "28.0")).toBe(true);
      expect(out.stderr).toMatch(/OPT-05 +from 28\.0 \(Engine 28\.0 release notes/);
    }
    expect(crossed("ISO-03", "25.0")).toBe(true);

    // JUnit: each engine's suites, named by area and engine version.
    const junit = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "" }).parse(readFileSync(join(dir, "junit.xml"), "utf8"));
    const names = ([junit.testsuites.testsuite].flat() as { name: string }[]).map((s) => s.name);
    for (const run of matrix.runs) expect(names).toContain(`docknet.dns@${run.engine.engineVersion}`);
    expect(docknetLeftovers()).toEqual([]);
  });
});
