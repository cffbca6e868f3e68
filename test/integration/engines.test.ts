import { readFileSync } from "node:fs";
import { join } from "node:path";
import { XMLParser } from "fast-xml-parser";
import { parseAllDocuments } from "yaml";
import { describe, expect, test } from "vitest";
import { tempDir } from "../temp-dir.js";
import { docknetLeftovers } from "./leftovers.js";
import { docknet } from "./run-cli.js";
import { schemaErrors } from "../schemas.js";

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

const majorMinor = (v: string) => v.split(".").slice(0, 2).join(".");
const byVersion = (a: string, b: string) => a.localeCompare(b, undefined, { numeric: true });

/** The engines at hand: the system's, and those the test command's set-up fetched (Debian stable and unstable). */
async function enginesAtHand(): Promise<string[]> {
  const { engines } = JSON.parse((await docknet(["engine", "list", "--json"])).stdout) as { engines: Engine[] };
  const specs = [...new Set(engines.filter((e) => !("corrupt" in e)).map((e) => majorMinor(e.version)))].sort(
    byVersion,
  );
  expect(specs.length, `engines at hand: ${JSON.stringify(engines)}`).toBeGreaterThanOrEqual(3);
  return specs;
}

describe("more than one engine version", () => {
  // Every single-host scenario runs on the newest engine Debian provides (28) in system-engine.test.ts,
  // and on the system's 20.10 in conformance.test.ts; bench/engines runs the whole suite on every engine.
  test("the matrix on all three: the version-keyed scenarios, and the boundaries between the engines named with their sources", async () => {
    const specs = await enginesAtHand();
    const dir = tempDir("matrix");
    // The scenarios whose expectations are keyed on a version, and one that needs its own daemon configuration.
    const keyed = ["DNS-01", "DNS-10", "ISO-03", "LK-03", "OPT-05", "DC-01"];
    const out = await docknet([
      "run",
      "--matrix",
      specs.join(","),
      ...keyed,
      "--json",
      join(dir, "matrix.json"),
      "--junit",
      join(dir, "junit.xml"),
    ]);
    const matrix = JSON.parse(readFileSync(join(dir, "matrix.json"), "utf8")) as MatrixJson;
    expect(matrix.engines.filter((e) => e.problem)).toEqual([]);
    expect(matrix.runs.map((r) => majorMinor(r.engine.engineVersion))).toEqual(specs);
    for (const run of matrix.runs) {
      expect(run.results.map((r) => `${run.engine.engineVersion} ${r.id} ${r.status}`).sort()).toEqual(
        keyed.map((id) => `${run.engine.engineVersion} ${id} passed`).sort(),
      );
    }
    expect(out.code, out.stderr.slice(-3000)).toBe(0);
    expect(out.stderr).toMatch(/Engine matrix: /);

    // The upgrade rehearsal: each boundary between the oldest and the newest engine is named, with its source.
    const crossed = (id: string, version: string) =>
      matrix.rows.find((r) => r.id === id)?.changes.some((c) => c.version === version);
    const [oldest, newest] = [specs[0]!, specs.at(-1)!];
    for (const [id, boundary] of [
      ["DNS-01", "25.0"],
      ["ISO-03", "25.0"],
      ["DNS-10", "28.0"],
      ["OPT-05", "28.0"],
      ["LK-03", "29.0"],
    ] as const) {
      const straddled = byVersion(oldest, boundary) < 0 && byVersion(newest, boundary) >= 0;
      expect(crossed(id, boundary), `${id} at ${boundary} between ${oldest} and ${newest}`).toBe(straddled);
      if (straddled) expect(out.stderr).toMatch(new RegExp(`${id} +from ${boundary.replace(".", "\\.")} \\(`));
    }

    // JUnit: each engine's suites, named by area and engine version.
    const junit = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "" }).parse(
      readFileSync(join(dir, "junit.xml"), "utf8"),
    );
    const names = ([junit.testsuites.testsuite].flat() as { name: string }[]).map((s) => s.name);
    for (const run of matrix.runs) expect(names).toContain(`docknet.dns@${run.engine.engineVersion}`);
    expect(docknetLeftovers()).toEqual([]);
  });

  test("a matrix across profiles (Docker 28 on iptables-nft and on iptables-legacy, Podman 5.4): the documented differences per profile, a conformance report for each", async () => {
    const dir = tempDir("profiles");
    const out = await docknet([
      "run",
      "--matrix",
      "docker-28,docker-28-iptables-legacy,podman-5.4",
      "UB-01",
      "DNS-01",
      "ISO-01",
      "--conformance",
      join(dir, "conformance.yaml"),
      "--markdown",
      join(dir, "summary.md"),
    ]);
    expect(out.code, out.stderr.slice(-3000)).toBe(0);
    expect(out.stderr).toMatch(/Engine matrix: 28\.5\.\d+, 28\.5\.\d+ iptables-legacy, podman 5\.4\.\d+/);
    expect(out.stderr).toMatch(/Differs from Docker, as documented:\n {2}podman [\d.]+: DNS-01: podman: /);
    const reports = parseAllDocuments(readFileSync(join(dir, "conformance.yaml"), "utf8")).map(
      (d) => d.toJSON() as { implementation: { family: string; firewall: string }; verdict: string },
    );
    for (const r of reports) expect(schemaErrors(r)).toEqual([]);
    expect(reports.map((r) => [r.implementation.family, r.implementation.firewall, r.verdict])).toEqual([
      ["docker", "iptables-nft", "conformant"],
      ["docker", "iptables-legacy", "conformant"],
      ["podman", "netavark", "conformant with documented differences"],
    ]);
    const summary = readFileSync(join(dir, "summary.md"), "utf8");
    expect(summary).toMatch(
      /\| podman [\d.]+ \| podman [\d.]+, rootful, [^|]+\| 3 \| 0 \| 0 \| conformant with documented differences \|/,
    );
    expect(docknetLeftovers()).toEqual([]);
  });
});
