import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, test } from "vitest";
import { daemonConfigSatisfies, needOutsideHost, needs } from "../../harness/capabilities.js";
import type { OutsideHost } from "../../harness/engine/outside-host.js";
import { EngineSlot, removeDeadEngineSlots, SLOT_PREFIX } from "../../harness/engine/engine-slot.js";
import { needOwnEngine, runOnConfiguredEngines } from "../../harness/configured-engines.js";
import { engineGroups } from "../../harness/engine-sharing.js";
import { parseDockerdVersion, versionMatches } from "../../harness/engine/engine-binaries.js";
import { parseMadison } from "../../harness/engine/debian-archive.js";
import { parseEngineSpec } from "../../harness/engine/engine-fetch.js";
import { buildMatrix } from "../../harness/matrix.js";
import { matrixMarkdown } from "../../reports/markdown.js";
import { matrixText } from "../../reports/matrix-console.js";
import type { RunReport, ScenarioResult, Status } from "../../harness/results.js";
import { ENGINE_FACTS } from "./engine-facts.js";
import { scenario } from "./test-scenario.js";

describe("engine versions", () => {
  test("a spec is a Debian suite, an alias, or a version prefix; anything else is a usage error", () => {
    expect(parseEngineSpec("sid")).toEqual({ suite: "sid" });
    expect(parseEngineSpec("unstable")).toEqual({ suite: "sid" });
    expect(parseEngineSpec("Trixie")).toEqual({ suite: "trixie" });
    expect(parseEngineSpec("28")).toEqual({ version: "28" });
    expect(parseEngineSpec("26.1.5")).toEqual({ version: "26.1.5" });
    expect(() => parseEngineSpec("latest")).toThrow(/neither a Debian suite .* nor an engine version/);
    expect(() => parseEngineSpec("28.x")).toThrow();
  });

  test("a version prefix matches whole components only", () => {
    expect(versionMatches("28", "28.5.2+dfsg4")).toBe(true);
    expect(versionMatches("28.5", "28.5.2+dfsg4")).toBe(true);
    expect(versionMatches("2", "28.5.2")).toBe(false);
    expect(versionMatches("20.10", "20.10.24+dfsg1")).toBe(true);
    expect(versionMatches("26.1.5", "26.1.50")).toBe(false);
  });

  test("dockerd --version and apt-cache madison", () => {
    expect(parseDockerdVersion("Docker version 28.5.2+dfsg4, build 3ef3c07c883b")).toBe("28.5.2+dfsg4");
    expect(parseDockerdVersion("garbage")).toBeUndefined();
    const madison = [
      "  docker.io | 28.5.2+dfsg4-5 | http://deb.debian.org/debian sid/main amd64 Packages",
      "  docker.io | 26.1.5+dfsg1-9+deb13u1+b1 | http://deb.debian.org/debian trixie/main amd64 Packages",
      "  docker.io | 99.0-1 | file:/tmp/repo sid/main amd64 Packages",
    ].join("\n");
    expect(parseMadison(madison)).toEqual([
      { version: "28.5.2+dfsg4-5", suite: "sid" },
      { version: "26.1.5+dfsg1-9+deb13u1+b1", suite: "trixie" },
      { version: "99.0-1", suite: "sid" },
    ]);
  });
});

describe("scenarios that need a daemon configuration", () => {
  test("an engine satisfies a configuration when it has every setting, compared as JSON", () => {
    expect(daemonConfigSatisfies({ icc: false, bip: "10.0.0.1/24" }, { icc: false })).toBe(true);
    expect(daemonConfigSatisfies({ icc: true }, { icc: false })).toBe(false);
    expect(daemonConfigSatisfies({}, { "default-address-pools": [{ base: "10.1.0.0/16", size: 24 }] })).toBe(false);
    expect(daemonConfigSatisfies({ dns: ["10.0.0.53"] }, { dns: ["10.0.0.53"] })).toBe(true);
    expect(daemonConfigSatisfies(undefined, { icc: false })).toBe(false);
  });

  const make = (id: string, daemon: Record<string, unknown>, extra: Partial<Parameters<typeof scenario>[0]> = {}) =>
    scenario({ id, title: id, area: "x", doc: "d", daemon, run: async () => {}, ...extra });
  const grouped = (scenarios: Parameters<typeof engineGroups>[0]) =>
    engineGroups(scenarios).map((g) => [g.config, g.scenarios.map((s) => s.id)]);

  test("one engine per configuration, scenarios kept in order", () => {
    expect(
      grouped([make("A", { icc: false }), make("B", { "live-restore": true }), make("C", { icc: false })]),
    ).toEqual([
      [{ icc: false }, ["A", "C"]],
      [{ "live-restore": true }, ["B"]],
    ]);
  });

  test("settings of different aspects share an engine started with all of them; one aspect set otherwise does not", () => {
    expect(
      grouped([
        make("BIP", { bip: "10.0.0.1/24" }),
        make("IP", { ip: "127.0.0.1" }),
        make("OTHER-BIP", { bip: "10.0.1.1/24", "fixed-cidr": "10.0.1.128/25" }),
        make("DNS", { dns: ["10.0.0.53"] }),
        make("NO-PROXY", { "userland-proxy": false }),
        make("SAME-BIP", { bip: "10.0.0.1/24" }),
      ]),
    ).toEqual([
      [{ bip: "10.0.0.1/24", ip: "127.0.0.1", dns: ["10.0.0.53"] }, ["BIP", "IP", "DNS", "SAME-BIP"]],
      [{ bip: "10.0.1.1/24", "fixed-cidr": "10.0.1.128/25", "userland-proxy": false }, ["OTHER-BIP", "NO-PROXY"]],
    ]);
  });

  test("a setting of no known aspect, an exclusive scenario and one of its own engine never share", () => {
    expect(
      grouped([
        make("BIP", { bip: "10.0.0.1/24" }),
        make("UNKNOWN", { "some-setting": true }),
        make("MIXED", { ip: "127.0.0.1", ipv6: true }),
        make("ALONE", { ip: "127.0.0.1" }, { exclusive: true }),
        make("RESTARTS", {}, { ownEngine: true }),
        make("IP", { ip: "127.0.0.1" }),
        make("ALONE-PLAIN", {}, { exclusive: true }),
        make("RESTARTS-TOO", {}, { ownEngine: true, exclusive: true }),
      ]),
    ).toEqual([
      [{ bip: "10.0.0.1/24", ip: "127.0.0.1" }, ["BIP", "IP"]],
      [{ "some-setting": true }, ["UNKNOWN"]],
      [{ ip: "127.0.0.1", ipv6: true }, ["MIXED"]],
      [{ ip: "127.0.0.1" }, ["ALONE"]],
      [{}, ["RESTARTS", "RESTARTS-TOO"]],
      [{}, ["ALONE-PLAIN"]],
    ]);
  });
});

describe("scenarios that need an engine of their own", () => {
  const make = (id: string, extra: Partial<Parameters<typeof scenario>[0]>) =>
    scenario({ id, title: id, area: "x", doc: "d", run: async () => {}, ...extra });

  test("those that restart dockerd, and those whose daemon.json the engine lacks", () => {
    const facts = { ...ENGINE_FACTS, daemonConfig: { icc: false } };
    const chosen = needOwnEngine(
      [
        make("PLAIN", {}),
        make("RESTARTS", { ownEngine: true }),
        make("HAS-IT", { daemon: { icc: false } }),
        make("LACKS-IT", { daemon: { bip: "10.0.0.1/24" } }),
      ],
      facts,
    );
    expect(chosen.map((s) => s.id)).toEqual(["RESTARTS", "LACKS-IT"]);
  });

  test("those alone on the engine too, when the engine is docknet's own dockerd with no daemon.json", () => {
    const scenarios = [
      make("PLAIN", {}),
      make("ALONE", { exclusive: true }),
      make("ALONE-ON-SWARM", { exclusive: true, requires: [needs.multiHost] }),
    ];
    const chosen = (facts: typeof ENGINE_FACTS) => needOwnEngine(scenarios, facts).map((s) => s.id);
    expect(chosen({ ...ENGINE_FACTS, daemonConfig: {} })).toEqual(["ALONE"]);
    // Not its equal: the user's own engine, one with a daemon.json, a rootless one, Podman.
    expect(chosen({ ...ENGINE_FACTS, engineKind: "current" })).toEqual([]);
    expect(chosen({ ...ENGINE_FACTS, daemonConfig: { icc: false } })).toEqual([]);
    expect(chosen({ ...ENGINE_FACTS, daemonConfig: {}, rootless: true })).toEqual([]);
    expect(
      chosen({ ...ENGINE_FACTS, daemonConfig: {}, profile: { ...ENGINE_FACTS.profile, family: "podman" } }),
    ).toEqual([]);
  });

  test("one too new for the engines' version skips before an engine starts for it", async () => {
    const seen: string[] = [];
    const results = await runOnConfiguredEngines({
      scenarios: [
        make("NEWER", { daemon: { "a-key-of-engine-99": true }, requires: [needs.engineAtLeast("99.0", "why")] }),
      ],
      runArgs: [],
      onResult: (r) => seen.push(r.id),
      sameVersionAs: ENGINE_FACTS,
    });
    expect(results.map((r) => [r.id, r.status, r.reason])).toEqual([
      ["NEWER", "skipped", `engine ${ENGINE_FACTS.engineVersion} is older than 99.0 (why)`],
    ]);
    expect(seen).toEqual(["NEWER"]);
  });
});

describe("the engine matrix", () => {
  const result = (id: string, status: Status, keys: Array<[string, boolean]>): ScenarioResult => ({
    id,
    title: `title of ${id}`,
    area: "a",
    doc: "d",
    tags: [],
    status,
    durationMs: 1,
    attempt: 1,
    evidence: [],
    versionKeys: keys.map(([version, applies]) => ({ version, source: `notes ${version}`, applies })),
  });
  const report = (version: string, runId: string, results: ScenarioResult[], family = "docker") =>
    ({
      runId,
      strict: false,
      engine: {
        engineVersion: version,
        profile: { family, mode: "rootful", description: `${family} ${version}, rootful, iptables-nft` },
      },
      results,
      summary: { total: results.length, passed: 0, failed: 0, skipped: 0, errors: 0, durationMs: 0 },
    }) as unknown as RunReport;

  test("rows whose verdict differs come first; version boundaries between the engines are the changes", () => {
    const matrix = buildMatrix([
      {
        spec: "20.10",
        report: report("20.10.24", "aaa111", [
          result("X-1", "passed", [
            ["28.0", false],
            ["25.0", false],
          ]),
          result("X-2", "passed", [["25.0", false]]),
        ]),
      },
      {
        spec: "28",
        report: report("28.5.2", "bbb222", [
          result("X-1", "passed", [
            ["28.0", true],
            ["25.0", true],
          ]),
          result("X-2", "failed", [["25.0", false]]),
        ]),
      },
      { spec: "29", problem: "would not start" },
      {
        spec: "podman",
        report: report(
          "4.3.1",
          "ccc333",
          [
            {
              ...result("X-1", "passed", [["25.0", false]]),
              documentedDifferences: [{ family: "podman", what: "not isolated", source: "podman docs" }],
            },
            result("X-2", "passed", []),
          ],
          "podman",
        ),
      },
    ]);
    expect(matrix.rows.map((r) => [r.id, r.cells, r.differs])).toEqual([
      ["X-1", { "20.10": "passed", "28": "passed", "29": "absent", podman: "passed" }, true],
      ["X-2", { "20.10": "passed", "28": "failed", "29": "absent", podman: "passed" }, true],
    ]);
    expect(matrix.rows[0]!.changes).toEqual([
      { version: "28.0", source: "notes 28.0", on: ["28"], off: ["20.10"] },
      { version: "25.0", source: "notes 25.0", on: ["28"], off: ["20.10", "podman"] },
    ]);
    expect(matrix.rows[1]!.changes).toEqual([]);
    // The Markdown summary says the same: what differs, what an upgrade changes, and the engine that did not run.
    const markdown = matrixMarkdown(matrix);
    expect(markdown).toContain("| **X-2** title of X-2 | ✅ | ❌ | – | ✅ |");
    expect(markdown).toContain("| X-1 | 28.0 | notes 28.0 | 28.5.2 | 20.10.24 |");
    expect(markdown).toContain("| X-1 | 25.0 | notes 25.0 | 28.5.2 | 20.10.24, podman 4.3.1 |");
    expect(markdown).toContain("- 29: would not start");
    expect(markdown).toContain("| 29 | | did not run | | | |");
    // Each profile's conformance verdict, and what differs as its documentation says.
    expect(markdown).toContain("| 28.5.2 | docker 28.5.2, rootful, iptables-nft | 0 | 0 | 0 | not conformant |");
    expect(markdown).toContain(
      "| podman 4.3.1 | podman 4.3.1, rootful, iptables-nft | 0 | 0 | 0 | conformant with documented differences |",
    );
    expect(markdown).toContain("- podman 4.3.1: X-1: podman: not isolated (podman docs)");
    const text = matrixText(matrix);
    expect(text).toContain("Engine matrix: 20.10.24, 28.5.2, 29, podman 4.3.1");
    expect(text).toContain(
      "Differs from Docker, as documented:\n  podman 4.3.1: X-1: podman: not isolated (podman docs)",
    );
  });
});

test("a kernel VM whose CPU is stuck 40 s or more is hung; shorter stalls under emulation are not", async () => {
  const { hungVmLine } = await import("../../harness/kernel-vm/vm.js");
  expect(hungVmLine("[  113.112898] watchdog: BUG: soft lockup - CPU#0 stuck for 45s! [kworker/u4:1:534]")).toBe(
    "soft lockup - CPU#0 stuck for 45s! [kworker/u4:1:534]",
  );
  expect(hungVmLine("[   41.000000] watchdog: BUG: soft lockup - CPU#1 stuck for 23s! [exe:522]")).toBeUndefined();
  expect(hungVmLine("[   87.579007] rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:")).toBeUndefined();
  expect(hungVmLine("PASS MV-01 soft lockup - CPU#0 stuck for 45 seconds")).toBeUndefined();
});

describe("an engine started for scenarios gets an outside host only when one of them needs it", () => {
  const outsideHost: OutsideHost = {
    netns: "docknet-x-out",
    tag: "x",
    address: "10.213.254.2",
    engineAddress: "10.213.254.1",
    engineInterface: "dnu-x",
    sourcePath: "/cgi-bin/source",
    largePath: "/large",
    binDir: "/tmp/x",
    dns: { address: "10.213.254.2", log: "/tmp/x.log", pid: 1 },
    ipv6Address: "fd0d:fe::2",
    engineIpv6Address: "fd0d:fe::1",
  };
  const facts = { ...ENGINE_FACTS, outsideHost };

  test("a requirement met only thanks to the outside host, or unmet already, counts as needing it", () => {
    expect(needOutsideHost([needs.defaultBridge], facts)).toBe(false);
    expect(needOutsideHost([], ENGINE_FACTS)).toBe(false);
    expect(needOutsideHost([needs.outsideHost], facts)).toBe(true);
    expect(needOutsideHost([needs.defaultBridge, needs.routeToContainers], facts)).toBe(true);
    // Unmet here for another reason: the cautious answer.
    expect(needOutsideHost([needs.defaultBridge], { ...facts, defaultBridge: false })).toBe(true);
    // Nothing to compare with: cautious too.
    expect(needOutsideHost([needs.defaultBridge], ENGINE_FACTS)).toBe(true);
  });

  test("every scenario started on an engine of its own whose body uses the outside host is judged to need it", async () => {
    const { ALL_SCENARIOS } = await import("../../scenarios/index.js");
    const users = ALL_SCENARIOS.filter((s) => /outsideHost|lab\.outside\b/.test(s.run.toString()));
    expect(users.length).toBeGreaterThan(5);
    const unjudged = users.filter((s) => !needOutsideHost(s.requires, facts));
    // ISO-03 looks at the outside host when there is one, without requiring it: it runs on the session's engine.
    expect(unjudged.map((s) => s.id)).toEqual(["ISO-03"]);
    expect(unjudged.filter((s) => s.daemon !== undefined || s.ownEngine === true)).toEqual([]);
  });
});

describe("engine slots", () => {
  test("a slot points at the engine given; clean removes only slots whose process is gone", () => {
    const slot = new EngineSlot();
    const dir = dirname(slot.dockerHost.slice("unix://".length));
    try {
      slot.point({ dockerHost: "unix:///run/docknet/engine-a/docker.sock" });
      slot.point({ dockerHost: "unix:///run/docknet/engine-b/docker.sock" });
      expect(readlinkSync(join(dir, "docker.sock"))).toBe("/run/docknet/engine-b/docker.sock");
      expect(() => slot.point({ dockerHost: "tcp://127.0.0.1:2375" })).toThrow(/unix sockets/);
      const dead = mkdtempSync(join(tmpdir(), SLOT_PREFIX));
      writeFileSync(join(dead, "owner"), String(spawnSync("true").pid));
      expect(removeDeadEngineSlots()).toBeGreaterThanOrEqual(1);
      expect(existsSync(dead)).toBe(false);
      expect(existsSync(dir)).toBe(true);
    } finally {
      slot.close();
    }
    expect(existsSync(dir)).toBe(false);
  });
});
