import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { stateRoot } from "../../harness/engine/private-engine.js";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { XMLParser } from "fast-xml-parser";
import { describe, expect, test } from "vitest";
import { tempDir } from "../temp-dir.js";
import { ALL_SCENARIOS } from "../../scenarios/index.js";
import { BROKEN_BY } from "./broken-by.js";
import { docknetLeftovers } from "./leftovers.js";
import { CLI, docknet } from "./run-cli.js";

const lines = (text: string) => text.trim().split("\n").filter(Boolean);

describe("bad input: one line, the right exit code, nothing created", () => {
  test("an unknown scenario suggests close matches and exits 2", async () => {
    const out = await docknet(["run", "DNS-1"]);
    expect(out.code).toBe(2);
    expect(lines(out.stderr)).toEqual([
      expect.stringMatching(/^docknet: unknown scenario or area "DNS-1"; did you mean DNS-01/),
    ]);
  });

  test("an unknown area, an invalid regex, bad --concurrency and --timeout exit 2", async () => {
    expect((await docknet(["run", "dnss"])).stderr).toMatch(/did you mean dns\?/);
    for (const args of [
      ["run", "dnss"],
      ["run", "/(oops/"],
      ["run", "--concurrency", "0"],
      ["run", "--timeout", "soon"],
      ["run", "--engine", "cloud"],
      ["nonsense"],
    ]) {
      const out = await docknet(args);
      expect(out.code, args.join(" ")).toBe(2);
      expect(lines(out.stderr), args.join(" ")).toEqual([expect.stringMatching(/^docknet: /)]);
    }
    expect((await docknet(["run", "/(oops/"])).stderr).toMatch(/invalid regular expression/);
    expect((await docknet(["run", "--timeout", "soon"])).stderr).toMatch(/"soon" is not a duration/);
  });

  test("a --daemon-config dockerd would refuse, or whose IPv6 subnets overlap, exits 2 before any engine starts", async () => {
    const dir = tempDir("cli");
    const cases: [Record<string, unknown>, RegExp][] = [
      [
        { ipv6: true, "fixed-cidr-v6": "fd00:0:0:1::/64", "default-address-pools": [{ base: "fd00::/48", size: 64 }] },
        /fixed-cidr-v6 fd00:0:0:1::\/64 overlaps default-address-pools fd00::\/48/,
      ],
      [
        {
          "default-address-pools": [
            { base: "fd00::/48", size: 64 },
            { base: "fd00:0:0:1::/64", size: 64 },
          ],
        },
        /default-address-pools fd00::\/48 and fd00:0:0:1::\/64 overlap/,
      ],
      [{ "no-such-key": true }, /unknown key "no-such-key"/],
    ];
    for (const [config, message] of cases) {
      const file = join(dir, "daemon.json");
      writeFileSync(file, JSON.stringify(config));
      const out = await docknet(["run", "UB-01", "--daemon-config", file]);
      expect(out.code, out.stderr).toBe(2);
      expect(lines(out.stderr)).toEqual([expect.stringMatching(message)]);
    }
    expect(docknetLeftovers()).toEqual([]);
  });

  test("an unreachable DOCKER_HOST exits 3 and does not fall back to a private engine", async () => {
    const out = await docknet(["run", "UB-01"], { env: { DOCKER_HOST: "tcp://127.0.0.1:1" } });
    expect(out.code).toBe(3);
    expect(out.stderr).toMatch(/no engine answers at tcp:\/\/127\.0\.0\.1:1 \(from DOCKER_HOST\)/);
  });

  test("a malformed DOCKER_HOST exits 3 saying what is wrong", async () => {
    const out = await docknet(["run", "UB-01"], { env: { DOCKER_HOST: "not-a-host" } });
    expect(out.code).toBe(3);
    expect(out.stderr).toMatch(/is not an address/);
  });

  test("not root when a private engine is needed exits 3", async () => {
    const out = await docknet(["run", "UB-01", "--engine", "private"], {
      prefix: ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"],
    });
    expect(out.code).toBe(3);
    expect(out.stderr).toMatch(/a private engine needs root/);
  });

  test("no static busybox and no image exits 3, leaving nothing behind", async () => {
    const out = await docknet(["run", "UB-01", "--engine", "private"], {
      env: { DOCKNET_BUSYBOX: "/nonexistent/busybox" },
    });
    expect(out.code).toBe(3);
    expect(out.stderr).toMatch(/no static busybox .*busybox-static/);
    expect(docknetLeftovers()).toEqual([]);
  });

  test("--help answers with the commands and exit codes", async () => {
    const out = await docknet(["run", "--help"]);
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/--junit <file>/);
    expect(out.stdout).toMatch(/130 +interrupted/);
  });
});

describe("runs through the CLI", () => {
  test("scenarios broken by a daemon setting fail on a private engine with it, with evidence in JSON and JUnit", async () => {
    const broken = Object.entries(BROKEN_BY).flatMap(([id, setup]) =>
      typeof setup === "string" ? [] : [{ id, ...setup }],
    );
    const daemonConfig = Object.assign({}, ...broken.map((b) => b.daemonConfig)) as Record<string, unknown>;
    const dir = tempDir("cli");
    writeFileSync(join(dir, "daemon.json"), JSON.stringify(daemonConfig));
    const ids = broken.map((b) => b.id);
    const args = [
      "run",
      ...ids,
      "UB-01",
      "--daemon-config",
      join(dir, "daemon.json"),
      "--json",
      "-",
      "--junit",
      join(dir, "junit.xml"),
    ];
    const out = await docknet(args);
    expect(out.code, out.stderr).toBe(1);
    const report = JSON.parse(out.stdout) as {
      results: { id: string; status: string; evidence: { ok: boolean; observed: string; how: string }[] }[];
      explanations: Record<string, { check: string; severity: string }[]>;
    };
    for (const id of ids) {
      const result = report.results.find((r) => r.id === id)!;
      expect(result.status, `${id} with ${JSON.stringify(daemonConfig)}`).toBe("failed");
      expect(result.evidence.at(-1)).toMatchObject({ ok: false });
      expect(result.evidence.at(-1)?.how).toMatch(/^(docker exec|nsenter --net=)/);
    }
    // The doctor, run on the same engine after the failures, names the setting behind each one.
    expect(report.explanations["DB-02"]?.map((e) => e.check)).toContain("D-DMN-09");
    expect(report.explanations["DB-05"]?.map((e) => e.check)).toContain("D-DMN-07");
    expect(out.stderr).toMatch(/likely cause \(docknet doctor D-DMN-07, warn\): ip-masq: false/);
    // A behaviour those settings do not touch still passes on the same engine.
    expect(report.results.find((r) => r.id === "UB-01")?.status).toBe("passed");
    expect(out.stderr).toMatch(
      new RegExp(`1/${ids.length + 1} passed, ${ids.length} failed, 0 skipped in \\d+\\.\\ds`),
    );
    const junit = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "" }).parse(
      readFileSync(join(dir, "junit.xml"), "utf8"),
    );
    const suites = [junit.testsuites.testsuite].flat() as { name: string; failures: string }[];
    // A suite per area, in catalogue order; every failure counted in its own.
    const ran = ALL_SCENARIOS.filter((s) => [...ids, "UB-01"].includes(s.id));
    const expected = [...new Set(ran.map((s) => s.area))].map((area) => [
      `docknet.${area}`,
      String(ran.filter((s) => s.area === area && ids.includes(s.id)).length),
    ]);
    expect(suites.map((s) => [s.name, s.failures])).toEqual(expected);
    expect(docknetLeftovers()).toEqual([]);
  });

  test("on an engine without a default bridge, its scenarios skip naming that fact; --strict fails them", async () => {
    const dir = tempDir("cli");
    writeFileSync(join(dir, "daemon.json"), JSON.stringify({ bridge: "none" }));
    const args = ["run", "DB-01", "DB-02", "UB-01", "--daemon-config", join(dir, "daemon.json"), "--json", "-"];
    const out = await docknet(args);
    expect(out.code, out.stderr).toBe(0);
    const report = JSON.parse(out.stdout) as { results: { id: string; status: string; reason?: string }[] };
    expect(report.results.map((r) => [r.id, r.status, r.reason])).toEqual([
      ["DB-01", "skipped", "engine has no default bridge network (daemon runs with --bridge=none)"],
      ["DB-02", "skipped", "engine has no default bridge network (daemon runs with --bridge=none)"],
      ["UB-01", "passed", undefined],
    ]);
    const strict = await docknet([...args, "--strict"]);
    expect(strict.code).toBe(1);
  });

  test("the JSON summary counts every container the run started, those on a daemon.json scenario's engine too", async () => {
    const started = async (...ids: string[]) => {
      const out = await docknet(["run", ...ids, "--engine", "private", "--json", "-"]);
      expect(out.code, out.stderr).toBe(0);
      return (JSON.parse(out.stdout) as { summary: { containersStarted?: number } }).summary.containersStarted;
    };
    const [here, elsewhere, both] = [await started("UB-01"), await started("DC-05"), await started("UB-01", "DC-05")];
    // DC-05 runs on an engine started with its daemon.json, in a process of its own: none on the run's engine.
    expect(here).toBeGreaterThan(0);
    expect(elsewhere).toBeGreaterThan(0);
    expect(both).toBe(here! + elsewhere!);
  });

  test("--probe-image that is not on the engine is refused: docknet never pulls", async () => {
    const out = await docknet(["run", "UB-01", "--engine", "private", "--probe-image", "docknet-nowhere:1"]);
    expect(out.code).toBe(3);
    expect(lines(out.stderr).at(-1)).toMatch(
      /--probe-image docknet-nowhere:1 is not on the engine \(docknet never pulls\)/,
    );
    expect(docknetLeftovers()).toEqual([]);
  });

  test("a DOCKER_HOST that answers HTTP but is not Docker: one line with its status and first line, not its page", async () => {
    const page = `<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head>\n<body>${"<p>filler</p>".repeat(200)}</body></html>\n`;
    const server = createServer((_, res) => res.writeHead(404, { "content-type": "text/html" }).end(page));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      const out = await docknet(["run", "UB-01"], { env: { DOCKER_HOST: `tcp://127.0.0.1:${port}` } });
      expect(out.code).toBe(3);
      expect(lines(out.stderr).at(-1)).toBe(
        `docknet: no engine answers at tcp://127.0.0.1:${port} (from DOCKER_HOST): what answers there is not a Docker engine (/_ping: HTTP 404 "404 Not Found"; Docker answers OK)`,
      );
      expect(out.stderr).not.toMatch(/<html|filler/);
    } finally {
      server.close();
    }
  });

  test.each([
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const)(
    "%s cancels the scenarios under way, removes everything the run made, keeps every verdict and exits %i",
    async (signal, code) => {
      let interrupted = false;
      const dir = tempDir("interrupted");
      const out = await docknet(
        [
          "run",
          "--engine",
          "private",
          "--concurrency",
          "2",
          "--json",
          join(dir, "run.json"),
          "--junit",
          join(dir, "junit.xml"),
        ],
        {
          // A cache of its own: no duration history, so the selection's order, whose first verdicts come
          // in seconds (with one, the longest scenarios start first and the first verdict comes late).
          env: { DOCKNET_CACHE_DIR: tempDir("interrupted-cache") },
          onStderr: (text, child) => {
            // Interrupt once scenarios are under way, so there is something to clean up.
            if (!interrupted && /^(PASS|FAIL) /m.test(text)) {
              interrupted = true;
              child.kill(signal);
            }
          },
        },
      );
      expect(interrupted).toBe(true);
      expect(out.code, out.stderr).toBe(code);
      expect(out.stderr).toMatch(new RegExp(`${signal}: removing what this run made`));
      expect(docknetLeftovers()).toEqual([]);
      // The reports hold a verdict for every scenario: those finished, and the rest marked interrupted.
      const report = JSON.parse(readFileSync(join(dir, "run.json"), "utf8")) as {
        results: Array<{ id: string; status: string; reason?: string }>;
      };
      expect(new Set(report.results.map((r) => r.id))).toEqual(new Set(ALL_SCENARIOS.map((s) => s.id)));
      expect(report.results.some((r) => r.status === "passed")).toBe(true);
      const cut = report.results.filter((r) => r.reason?.startsWith(`interrupted by ${signal}`));
      expect(cut.length).toBeGreaterThan(0);
      expect(cut.every((r) => r.status === "skipped")).toBe(true);
      expect(readFileSync(join(dir, "junit.xml"), "utf8")).toContain(`interrupted by ${signal}`);
    },
  );

  test("--run-timeout ends the run as Ctrl-C does, keeping every verdict, and exits 1", async () => {
    const dir = tempDir("run-timeout");
    const out = await docknet([
      "run",
      "dns",
      "isolation",
      "--engine",
      "private",
      "--run-timeout",
      "6s",
      "--json",
      join(dir, "run.json"),
      "--markdown",
      join(dir, "summary.md"),
      "--no-color",
    ]);
    expect(out.code, out.stderr).toBe(1);
    expect(out.stderr).toMatch(/the run timeout \(6s\) was reached: removing what this run made/);
    const report = JSON.parse(readFileSync(join(dir, "run.json"), "utf8")) as {
      results: Array<{ id: string; status: string; reason?: string }>;
    };
    expect(report.results.length).toBe(ALL_SCENARIOS.filter((s) => s.area === "dns" || s.area === "isolation").length);
    expect(
      report.results.filter((r) => r.reason?.startsWith("interrupted by the run timeout (6s)")).length,
    ).toBeGreaterThan(0);
    // The Markdown summary a CI step shows: the counts, and the interrupted ones grouped by reason.
    const summary = readFileSync(join(dir, "summary.md"), "utf8");
    expect(summary).toMatch(/^## docknet run\n\n\*\*\d+\/\d+ passed/);
    expect(summary).toMatch(/\| [A-Z0-9-, ]+ \| interrupted by the run timeout \(6s\) before it started \|/);
    expect(docknetLeftovers()).toEqual([]);
    expect((await docknet(["run", "--run-timeout", "soon"])).code).toBe(2);
  });

  test("--rerun-failed runs only what an earlier report says did not pass", async () => {
    const dir = tempDir("rerun");
    const earlier = join(dir, "earlier.json");
    const result = (id: string, status: string) => ({
      id,
      status,
      title: id,
      area: "a",
      doc: "d",
      tags: [],
      attempt: 1,
      durationMs: 1,
      evidence: [],
    });
    writeFileSync(
      earlier,
      JSON.stringify({ results: [result("UB-01", "failed"), result("ISO-01", "passed"), result("DNS-03", "skipped")] }),
    );
    const out = await docknet(["run", "--rerun-failed", earlier, "--engine", "private", "--json", "-"]);
    expect(out.code, out.stderr).toBe(0);
    expect(
      (JSON.parse(out.stdout) as { results: Array<{ id: string; status: string }> }).results.map((r) => [
        r.id,
        r.status,
      ]),
    ).toEqual([["UB-01", "passed"]]);
    writeFileSync(earlier, JSON.stringify({ results: [result("ISO-01", "passed")] }));
    const none = await docknet(["run", "--rerun-failed", earlier]);
    expect([none.code, lines(none.stderr)]).toEqual([0, [`docknet: nothing failed in ${earlier}: nothing to rerun`]]);
    const both = await docknet(["run", "dns", "--rerun-failed", earlier]);
    expect([both.code, lines(both.stderr)]).toEqual([
      2,
      ["docknet: --rerun-failed chooses the scenarios itself: give it no scenario ids, areas or patterns"],
    ]);
    expect(docknetLeftovers()).toEqual([]);
  });

  test("--keep-on-failure leaves a bundle for each failed scenario, collected before its teardown, and none for the rest", async () => {
    const dir = tempDir("bundles");
    // UB-01 fails when user-defined networks drop traffic between their containers; NONE-01 passes regardless.
    const out = await docknet([
      "run",
      "UB-01",
      "NONE-01",
      "--engine",
      "private",
      "--fault",
      "user-networks-icc-off",
      "--keep-on-failure",
      dir,
      "--json",
      "-",
    ]);
    expect(out.code, out.stderr).toBe(1);
    const report = JSON.parse(out.stdout) as { runId: string; results: Array<{ id: string; status: string }> };
    expect(report.results.map((r) => [r.id, r.status])).toEqual([
      ["UB-01", "failed"],
      ["NONE-01", "passed"],
    ]);
    expect(readdirSync(join(dir, report.runId))).toEqual(["UB-01"]);
    const bundle = join(dir, report.runId, "UB-01");
    expect(JSON.parse(readFileSync(join(bundle, "verdict.json"), "utf8"))).toMatchObject({
      id: "UB-01",
      status: "failed",
    });
    const containers = readdirSync(join(bundle, "containers"));
    expect(containers.filter((f) => f.endsWith(".json")).length).toBeGreaterThanOrEqual(2);
    const seen = readFileSync(
      join(
        bundle,
        "containers",
        containers.find((f) => f.endsWith(".txt"))!,
      ),
      "utf8",
    );
    expect(seen).toMatch(/\$ ip addr\n[\s\S]*inet \d+\.\d+\.\d+\.\d+\/\d+ [^\n]*eth0/);
    expect(seen).toMatch(/\$ cat \/etc\/resolv\.conf\nnameserver 127\.0\.0\.11/);
    const network = JSON.parse(
      readFileSync(join(bundle, "networks", readdirSync(join(bundle, "networks"))[0]!), "utf8"),
    ) as { Options?: Record<string, string> };
    // The broken setup is there to see: the network's icc option.
    expect(network.Options?.["com.docker.network.bridge.enable_icc"]).toBe("false");
    expect(readFileSync(join(bundle, "host-iptables-save.txt"), "utf8")).toMatch(/-A DOCKER/);
    expect(readFileSync(join(bundle, "engine.log"), "utf8")).toMatch(/^time="/);
    expect(docknetLeftovers()).toEqual([]);
    expect((await docknet(["run", "UB-01", "--keep-on-failure", "/proc/nope"])).code).toBe(2);
  });

  test("after a crash, docknet clean removes the orphaned engine", async () => {
    const out = await docknet(["run", "--engine", "private", "UB-01"], {
      onStderr: (text, child) => {
        if (/^engine: /m.test(text)) child.kill("SIGKILL");
      },
    });
    expect(out.signal).toBe("SIGKILL");
    expect(docknetLeftovers().length).toBeGreaterThan(0);
    const clean = await docknet(["clean"]);
    expect(clean.code).toBe(0);
    expect(clean.stderr).toMatch(/private engines stopped: 1/);
    expect(docknetLeftovers()).toEqual([]);
  });

  test("a private engine that dies mid-run: one line naming it, its signal and its log; exit 3; nothing left", async () => {
    let killed = false;
    const out = await docknet(["run", "dns", "isolation", "--engine", "private", "--concurrency", "1", "--no-color"], {
      onStderr: (text, child) => {
        if (killed || !/^PASS /m.test(text)) return;
        killed = true;
        // The run's own engine: not those its child runs start for scenarios that need one of their own.
        const engines = join(stateRoot(), "engines");
        for (const id of readdirSync(engines)) {
          const state = JSON.parse(readFileSync(join(engines, id, "state.json"), "utf8")) as {
            ownerPid: number;
            dockerdPid?: number;
          };
          if (state.ownerPid === child.pid && state.dockerdPid) process.kill(state.dockerdPid, "SIGKILL");
        }
      },
    });
    expect(killed).toBe(true);
    expect(out.code, out.stderr).toBe(3);
    const last = lines(out.stderr).at(-1)!;
    expect(last).toMatch(
      /^docknet: the private engine [0-9a-f]+ \(dockerd pid \d+\) died mid-run: killed by SIGKILL; its log: (\S+)$/,
    );
    const log = /its log: (\S+)$/.exec(last)![1]!;
    expect(readFileSync(log, "utf8")).toMatch(/API listen on/);
    rmSync(log);
    // The scenario that met the dead engine says so, not only "read ECONNRESET".
    expect(out.stderr).toMatch(/^ERR .* — the private engine [0-9a-f]+ \(dockerd pid \d+\) died mid-run/m);
    expect(docknetLeftovers()).toEqual([]);
  });

  test("docknet clean also removes a namespace of docknet's whose engine directory is gone", async () => {
    const id = randomBytes(4).toString("hex");
    execFileSync("ip", ["netns", "add", `docknet-${id}`]);
    expect(docknetLeftovers()).toEqual([`network namespace docknet-${id}`]);
    const clean = await docknet(["clean"]);
    expect(clean.stderr).toMatch(/private engines stopped: 1/);
    expect(docknetLeftovers()).toEqual([]);
  });

  test("--driver runs the driver-generic scenarios on networks of that driver; a driver the engine lacks is exit 2", async () => {
    // Which scenarios --driver keeps is planning's (run-plan.test.ts); here, that they run on networks of that driver.
    const out = await docknet([
      "run",
      "--engine",
      "private",
      "--driver",
      "bridge",
      "UB-03",
      "DNS-02",
      "DB-01",
      "--json",
      "-",
    ]);
    expect(out.code, out.stderr).toBe(0);
    const report = JSON.parse(out.stdout) as { results: { id: string; status: string; tags: string[] }[] };
    expect(report.results.map((r) => `${r.id} ${r.status}`)).toEqual(["UB-03 passed", "DNS-02 passed"]);
    expect(report.results.every((r) => r.tags.includes("driver-generic"))).toBe(true);
    expect(out.stderr).toMatch(/user-defined networks use the bridge driver/);
    const missing = await docknet(["run", "--engine", "private", "--driver", "vendor/nosuch:1.0"]);
    expect(missing.code).toBe(2);
    expect(lines(missing.stderr).at(-1)).toMatch(
      /the engine has no network driver vendor\/nosuch:1\.0 \(it has bridge, host/,
    );
    expect(docknetLeftovers()).toEqual([]);
  });

  test("engine info reports what scenarios may need: drivers, kernel features, sysctls, iptables, root", async () => {
    const out = await docknet(["engine", "info", "--engine", "private", "--json"]);
    expect(out.code, out.stderr).toBe(0);
    const facts = JSON.parse(out.stdout) as {
      networkDrivers: string[];
      kernelMissing: Record<string, string[]>;
      sysctls: Record<string, string>;
      iptablesBackend: string;
      root: boolean;
    };
    expect(facts.networkDrivers).toContain("macvlan");
    expect(Object.keys(facts.kernelMissing)).toEqual(
      expect.arrayContaining(["ipvs", "macvlan", "ipvlan", "encryptedOverlay"]),
    );
    expect(facts.sysctls["net.ipv4.ip_forward"]).toMatch(/^[01]$/);
    expect(facts.iptablesBackend).toMatch(/^(nf_tables|legacy)$/);
    expect(facts.root).toBe(true);
    const text = await docknet(["engine", "info", "--engine", "private"]);
    expect(text.stdout).toMatch(/^ {2}ipvlan +(yes|no: kernel has no CONFIG_IPVLAN)$/m);
    expect(docknetLeftovers()).toEqual([]);
  });

  test("list shows every scenario with its doc section", async () => {
    const out = await docknet(["list", "--json"]);
    expect(out.code).toBe(0);
    const rows = (JSON.parse(out.stdout) as { scenarios: { id: string; doc: string }[] }).scenarios;
    expect(rows.length).toBeGreaterThan(30);
    expect(rows.every((r) => r.doc.length > 0)).toBe(true);
    expect(existsSync(CLI)).toBe(true);
  });
});
