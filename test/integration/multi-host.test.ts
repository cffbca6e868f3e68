import { randomBytes } from "node:crypto";
import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { Cluster } from "../../harness/lab/cluster.js";
import type { LabFault } from "../../harness/lab/faults.js";
import type { RunReport, ScenarioResult } from "../../harness/results.js";
import { runScenarios } from "../../harness/runner.js";
import { runsOnCluster } from "../../harness/scenario.js";
import { openSession, runConformance, type Session } from "../../harness/session.js";
import { chosenForTest } from "../chosen-scenarios.js";
import { docknetLeftovers } from "./leftovers.js";
import { docknet } from "./run-cli.js";

const MULTI_HOST = chosenForTest().filter(runsOnCluster);
const byId = (results: readonly ScenarioResult[], id: string) => results.find((r) => r.id === id)!;

/** A healthy 3-host lab: every multi-host scenario passes, or skips naming what this kernel lacks. */
describe("multi-host scenarios on a 3-host lab", () => {
  let session: Session;
  let report: RunReport;

  beforeAll(async () => {
    session = await openSession({ engine: "private", cluster: { lab: 3 } });
    report = await runConformance(session, { scenarios: MULTI_HOST, concurrency: 4, timeoutMs: 120_000, strict: false });
  });
  afterAll(async () => {
    await session?.close();
    expect(docknetLeftovers()).toEqual([]);
  });

  test("each passes, or skips naming the kernel options it lacks", () => {
    const missing = session.capabilities.kernelMissing!;
    for (const result of report.results) {
      const reason = result.reason ?? "";
      if (result.status === "skipped") {
        // The routing mesh and VIPs need IPVS; encryption needs ESP. Anything else must pass.
        expect(["OV-05", "OV-11", "OV-15"], `${result.id}: ${reason}`).toContain(result.id);
        expect(reason).toMatch(/^kernel has no CONFIG_/);
      } else {
        expect(result.status, `${result.id}: ${reason}`).toBe("passed");
      }
    }
    expect(byId(report.results, "OV-05").status).toBe(missing.ipvs.length ? "skipped" : "passed");
    expect(byId(report.results, "OV-11").status).toBe(missing.encryptedOverlay.length ? "skipped" : "passed");
    expect(report.summary.passed).toBeGreaterThanOrEqual(MULTI_HOST.length - 3);
  });

  test.skipIf(!process.getuid || process.getuid() !== 0)("where the kernel has no ESP, the encrypted overlay is diagnosed as a black hole, with evidence", () => {
    const encrypted = byId(report.results, "OV-11");
    if (session.capabilities.kernelMissing!.encryptedOverlay.length === 0) return;
    expect(encrypted.reason).toMatch(/CONFIG_INET_ESP.*black-holes traffic/);
    const last = encrypted.evidence.at(-1)!;
    expect(last.ok).toBe(true);
    expect(last.observed).toMatch(/no reply/);
    expect(last.how).toMatch(/ping/);
  });

  test("JUnit and JSON carry the lab: results name the nodes' commands", () => {
    const evidence = report.results.flatMap((r) => r.evidence);
    expect(evidence.some((e) => /docker -H unix:\/\/\S+ /.test(e.how))).toBe(true);
    expect(report.engine.cluster?.nodes).toBe(3);
    expect(report.engine.cluster?.disposable).toBe(true);
  });

  const faults = [...new Set(MULTI_HOST.map((s) => s.brokenBy).filter((f): f is LabFault => typeof f === "string"))];

  test.each(faults)("on a lab built with the fault %s, its scenarios fail with evidence (or skip where the kernel lacks the feature)", async (fault) => {
    const scenarios = MULTI_HOST.filter((s) => s.brokenBy === fault);
    const cluster = await Cluster.open({
      nodes: session.cluster!.nodes,
      runId: randomBytes(3).toString("hex"),
      faults: [fault],
      ...(session.cluster!.control ? { control: session.cluster!.control } : {}),
    });
    try {
      const results = await runScenarios({ scenarios, lab: session.lab, cluster, capabilities: session.capabilities, concurrency: 1, timeoutMs: 120_000 });
      for (const result of results) {
        const healthy = byId(report.results, result.id);
        if (healthy.status === "skipped" && result.id !== "OV-11") {
          expect(result.status, `${result.id} under ${fault}`).toBe("skipped");
          continue;
        }
        expect(result.status, `${result.id} under ${fault}: ${result.reason ?? "passed"}`).toBe("failed");
        const last = result.evidence.at(-1);
        expect(last?.ok, `${result.id}: the failing evidence comes last`).toBe(false);
        expect(result.reason).toContain(`observed ${last?.observed}`);
      }
    } finally {
      await cluster.tearDown();
    }
  });

  test("after the faults, the lab is healthy again: cross-host traffic flows", async () => {
    const again = await runScenarios({
      scenarios: MULTI_HOST.filter((s) => ["OV-01", "OV-12"].includes(s.id)),
      lab: session.lab,
      cluster: session.cluster!,
      capabilities: session.capabilities,
      concurrency: 1,
      timeoutMs: 120_000,
    });
    expect(again.map((r) => `${r.id} ${r.status}`)).toEqual(["OV-01 passed", "OV-12 passed"]);
  });
});

describe("docknet lab and run --lab from the command line", () => {
  test("lab up, status, run --lab ID, --nodes and down: the lab answers while up, and nothing of it remains", async () => {
    const up = await docknet(["lab", "up", "--hosts", "2", "--json"]);
    expect(up.code, up.stderr).toBe(0);
    const [lab] = (JSON.parse(up.stdout) as { labs: { id: string; held: boolean; nodes: { name: string; role: string; dockerHost: string }[] }[] }).labs;
    if (!lab) throw new Error(`lab up --json named no lab: ${up.stdout}`);
    expect(lab.held).toBe(true);
    expect(lab.nodes.map((n) => `${n.name} ${n.role}`)).toEqual(["node1 manager", "node2 worker"]);
    // A held lab outlives `lab up`, and `docknet clean` leaves it alone.
    const clean = await docknet(["clean"]);
    expect(clean.stderr).toMatch(/labs removed: 0/);
    const statusJson = (JSON.parse((await docknet(["lab", "status", "--json"])).stdout) as { labs: { id: string; nodes: { answers: string }[] }[] }).labs;
    expect(statusJson.find((l) => l.id === lab.id)?.nodes.map((n) => n.answers)).toEqual(["ok", "ok"]);
    const status = await docknet(["lab", "status"]);
    expect(status.stdout).toMatch(new RegExp(`lab ${lab.id} \\(kept until docknet lab down`));
    expect(status.stdout.match(/answers/g)?.length).toBe(2);
    const run = await docknet(["run", "OV-12", "--lab", lab.id, "--engine", "private", "--json", "-"]);
    expect(run.code, run.stderr).toBe(0);
    expect((JSON.parse(run.stdout) as RunReport).results.map((r) => `${r.id} ${r.status}`)).toEqual(["OV-12 passed"]);
    // --nodes naming engines that answer but are in no swarm: exit 3, one line.
    const hosts = lab.nodes.map((n) => n.dockerHost);
    for (const host of hosts) await new Docker({ socketPath: host.replace("unix://", "") }).swarmLeave({ force: true });
    const notSwarm = await docknet(["run", "OV-12", "--engine", "private", "--nodes", hosts.join(",")]);
    expect(notSwarm.code, notSwarm.stderr).toBe(3);
    expect(notSwarm.stderr.trim().split("\n").at(-1)).toMatch(/is not in a swarm \(state inactive\)/);
    const down = await docknet(["lab", "down", lab.id]);
    expect(down.code).toBe(0);
    expect(down.stderr).toMatch(new RegExp(`lab ${lab.id} removed`));
    expect(docknetLeftovers()).toEqual([]);
  });

  test.each([
    [["lab", "up", "--hosts", "1"], /--hosts must be a whole number from 2 to 9/],
    [["lab", "up", "--hosts", "3", "--managers", "4"], /--managers must be from 1 to the number of hosts, 3/],
    [["lab", "down", "abcdef"], /no lab abcdef/],
    [["run", "OV-12", "--lab", "nope"], /--lab takes a number of hosts \(2-9\) or the id of a lab/],
    [["run", "OV-12", "--lab", "2", "--nodes", "unix:///a,unix:///b"], /--lab and --nodes both name/],
    [["run", "OV-12", "--nodes", "unix:///a"], /--nodes needs at least two swarm nodes/],
  ])("bad input %j: one line, exit 2, nothing made", async (args, message) => {
    const out = await docknet(args);
    expect(out.code, out.stderr).toBe(2);
    expect(out.stderr.trim().split("\n").at(-1)).toMatch(message);
    expect(docknetLeftovers()).toEqual([]);
  });

  test("Ctrl-C while a lab runs: the lab, its engines and namespaces are removed, exit 130", async () => {
    let interrupted = false;
    const out = await docknet(["run", "OV-12", "OV-13", "--lab", "2", "--engine", "private"], {
      onStderr: (text, child) => {
        if (!interrupted && /^multi-host: /m.test(text)) {
          interrupted = true;
          child.kill("SIGINT");
        }
      },
    });
    expect(interrupted).toBe(true);
    expect(out.code, out.stderr).toBe(130);
    expect(docknetLeftovers()).toEqual([]);
  });

  test("a run killed outright leaves its lab; docknet clean removes it", async () => {
    const out = await docknet(["run", "OV-12", "--lab", "2", "--engine", "private"], {
      onStderr: (text, child) => {
        if (/^multi-host: /m.test(text)) child.kill("SIGKILL");
      },
    });
    expect(out.signal).toBe("SIGKILL");
    expect(docknetLeftovers().some((l) => /lab directory|docknet-lab-/.test(l))).toBe(true);
    const clean = await docknet(["clean"]);
    expect(clean.stderr).toMatch(/labs removed: 1/);
    expect(docknetLeftovers()).toEqual([]);
  });
});
