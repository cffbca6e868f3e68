import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { describe, expect, test } from "vitest";
import type { ScenarioResult } from "../../harness/results.js";
import { docknetLeftovers } from "./leftovers.js";
import { docknet } from "./run-cli.js";

interface Report {
  engine: { profile: { firewall: string } };
  results: ScenarioResult[];
}

interface DoctorReport {
  results: { id: string; status: string; seen: string[] }[];
}

/** The scenarios that read Docker's rules and add their own beside them (DOCKER-USER), and two that only need them. */
const RULE_SCENARIOS = ["FW-03", "FW-09", "PP-05", "ISO-01"];

const ruleCounts = (seen: readonly string[]) =>
  Object.fromEntries(
    seen.flatMap((line) => {
      const m = /^(iptables-legacy|iptables-nft) rules: (\d+)$/.exec(line);
      return m ? [[m[1]!, Number(m[2])]] : [];
    }),
  );

/**
 * The firewall axis of a profile (issue 18): a private engine whose host uses iptables-legacy
 * instead of Debian's default iptables-nft. dockerd and every command docknet runs on the
 * engine's host use the same variant, so a scenario that adds a DOCKER-USER rule finds Docker's
 * chain where dockerd made it (with the variants crossed, FW-03 fails: "No chain/target/match").
 */
describe("firewall set-ups: iptables-legacy, iptables-nft, firewalld", () => {
  test("on iptables-legacy the rule scenarios pass, fail on their broken setup, and the report names the backend", async () => {
    const out = await docknet(["run", "--profile", "docker-iptables-legacy", ...RULE_SCENARIOS, "--json", "-"]);
    expect(out.code, out.stderr).toBe(0);
    const report = JSON.parse(out.stdout) as Report;
    expect(report.engine.profile.firewall).toBe("iptables-legacy");
    expect(report.results.map((r) => `${r.id} ${r.status}`).sort()).toEqual(
      RULE_SCENARIOS.map((id) => `${id} passed`).sort(),
    );
    const broken = await docknet([
      "run",
      "--profile",
      "docker-iptables-legacy",
      "FW-03",
      "--fault",
      "FW-03=publish-dropped",
    ]);
    expect(broken.code).toBe(1);
    expect(docknetLeftovers()).toEqual([]);
  });

  test("the doctor reads the same set-ups: Docker's rules in the backend its host uses, none in the other", async () => {
    const counts: Record<string, Record<string, number>> = {};
    for (const firewall of ["iptables-nft", "iptables-legacy"]) {
      const out = await docknet([
        "doctor",
        "--engine",
        "private",
        "--firewall",
        firewall,
        "--check",
        "D-FW-05",
        "D-FW-06",
        "--json",
        "-",
      ]);
      expect(out.code, out.stderr).toBe(0);
      const { results } = JSON.parse(out.stdout) as DoctorReport;
      expect(results.map((r) => [r.id, r.status])).toEqual([
        ["D-FW-05", "ok"],
        ["D-FW-06", "ok"],
      ]);
      counts[firewall] = ruleCounts(results.find((r) => r.id === "D-FW-06")!.seen);
    }
    expect(counts["iptables-nft"]!["iptables-legacy"]).toBe(0);
    expect(counts["iptables-nft"]!["iptables-nft"]).toBeGreaterThan(0);
    expect(counts["iptables-legacy"]!["iptables-nft"]).toBe(0);
    expect(counts["iptables-legacy"]!["iptables-legacy"]).toBeGreaterThan(0);
    expect(docknetLeftovers()).toEqual([]);
  });

  test("under firewalld (on a bus of the engine's own): FW-08 passes, fails on its broken setup, and firewalld goes with the engine", async () => {
    const runDirBefore = existsSync("/run/firewalld");
    const out = await docknet(["run", "--profile", "docker-28-firewalld", "FW-08", "UB-01", "--json", "-"]);
    expect(out.code, out.stderr).toBe(0);
    const report = JSON.parse(out.stdout) as Report;
    expect(report.engine.profile.firewall).toMatch(/firewalld/);
    expect(report.results.map((r) => `${r.id} ${r.status}`).sort()).toEqual(["FW-08 passed", "UB-01 passed"]);
    const broken = await docknet([
      "run",
      "--profile",
      "docker-28-firewalld",
      "FW-08",
      "--fault",
      "FW-08=bridges-outside-firewalld-zone",
    ]);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(
      /FAIL FW-08 .* the firewalld zone of br-[0-9a-f]{12}: expected docker, observed no zone/,
    );
    // Its firewalld and its bus stopped; this machine's /run as it was.
    expect(execFileSync("ps", ["-eo", "args"], { encoding: "utf8" })).not.toMatch(
      /firewalld --nofork|dbus-daemon --config-file \S*docknet/,
    );
    expect(existsSync("/run/firewalld")).toBe(runDirBefore);
    expect(docknetLeftovers()).toEqual([]);
  });

  test("--firewall is for docknet's own dockerd: with another engine it is one line, exit 2", async () => {
    for (const engine of ["current", "podman", "rootless"]) {
      const out = await docknet(["run", "UB-01", "--engine", engine, "--firewall", "iptables-legacy"]);
      expect(out.code).toBe(2);
      expect(out.stderr.trim()).toMatch(/^docknet: --firewall chooses the iptables of docknet's own private dockerd/);
    }
    const doctor = await docknet(["doctor", "--firewall", "iptables-legacy"]);
    expect(doctor.code).toBe(2);
    expect(doctor.stderr.trim()).toMatch(/^docknet: --firewall needs --engine private/);
  });
});
