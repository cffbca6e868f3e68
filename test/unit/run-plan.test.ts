import { describe, expect, test } from "vitest";
import { planRun, withProfile, type PlanningInputs, type RunFlags } from "../../harness/commands/run-plan.js";
import { UsageError } from "../../harness/exit-codes.js";
import { scenario } from "./test-scenario.js";

const SCENARIOS = [
  scenario({ id: "UB-01", title: "u", area: "user-bridge", doc: "d", tags: ["driver-generic"], run: async () => {} }),
  scenario({ id: "DNS-01", title: "d", area: "dns", doc: "d", run: async () => {} }),
  scenario({ id: "ISO-01", title: "i", area: "isolation", doc: "d", tags: ["driver-generic"], run: async () => {} }),
];

const FLAGS: RunFlags = { engine: "auto", concurrency: 4, timeout: 60_000, repeat: 1, helper: true };

/** Inputs with no problems; each test changes what it needs, and sees what planning read. */
function inputs(change: Partial<PlanningInputs> = {}): PlanningInputs & { read: string[] } {
  const read: string[] = [];
  return {
    read,
    scenarios: SCENARIOS,
    outputProblem: (path) => (read.push(`output ${path}`), undefined),
    directoryProblem: (path) => (read.push(`directory ${path}`), undefined),
    failedIn: (report) => (read.push(`report ${report}`), ["DNS-01"]),
    daemonConfig: (path) => (read.push(`daemon.json ${path}`), { icc: false }),
    ...change,
  };
}

/** The usage error planning raises, or "" when it plans. */
function refusal(words: string[], flags: Partial<RunFlags>, given = inputs()): string {
  try {
    planRun(words, { ...FLAGS, ...flags }, given);
    return "";
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    return error.message;
  }
}

describe("docknet run's options become a plan; every usage error is raised there, before anything starts", () => {
  test("a plain run: the selection, the engine as asked, and the helper allowed for an engine the user has", () => {
    const given = inputs();
    const plan = planRun(["dns"], FLAGS, given);
    expect(plan).toMatchObject({
      kind: "run",
      words: ["dns"],
      engine: "auto",
      faults: [],
      helperApplies: true,
      notForDriver: 0,
    });
    expect(plan.kind === "run" && plan.scenarios.map((s) => s.id)).toEqual(["DNS-01"]);
    expect(given.read).toEqual([]);
  });

  test("outputs are checked first, each by its option", () => {
    const unwritable = inputs({
      outputProblem: (path) =>
        path.startsWith("/root") ? "cannot write there: permission denied (/root/r.json)" : undefined,
    });
    expect(refusal(["dns"], { junit: "j.xml", json: "/root/r.json" }, unwritable)).toBe(
      "--json /root/r.json: cannot write there: permission denied (/root/r.json)",
    );
    expect(
      refusal(["dns"], { keepOnFailure: "/x" }, inputs({ directoryProblem: () => "/x is a file, not a directory" })),
    ).toBe("--keep-on-failure /x: /x is a file, not a directory");
    expect(refusal(["dns"], { json: "-", markdown: "-" })).toBe(
      "--json - and --markdown - both want stdout: give one of them a file",
    );
  });

  test("--rerun-failed: the report's failures are the selection; words beside it are refused; nothing failed is a plan of its own", () => {
    expect(planRun([], { ...FLAGS, rerunFailed: "r.json" }, inputs())).toMatchObject({
      kind: "run",
      words: ["DNS-01"],
    });
    expect(refusal(["dns"], { rerunFailed: "r.json" })).toMatch(/^--rerun-failed chooses the scenarios itself/);
    expect(planRun([], { ...FLAGS, rerunFailed: "r.json" }, inputs({ failedIn: () => [] }))).toEqual({
      kind: "nothing-to-rerun",
      report: "r.json",
    });
  });

  test("a selection that matches nothing, a fault that does not exist", () => {
    expect(refusal(["nothing-like-this"], {})).toBe('unknown scenario or area "nothing-like-this" (see: docknet list)');
    expect(refusal(["!UB-01", "!DNS-01", "!ISO-01"], {})).toBe("the selection matches no scenario (see: docknet list)");
    expect(refusal(["dns"], { fault: ["no-such-fault"] })).toBe(
      'unknown fault "no-such-fault" (NAME or SCENARIO=NAME)',
    );
    expect(planRun(["dns"], { ...FLAGS, fault: ["DNS-01=servers-down"] }, inputs())).toMatchObject({
      faults: [{ fault: "servers-down", scenario: "DNS-01" }],
    });
  });

  test("engines: a daemon.json or an engine version means a private engine of its own (no helper); neither goes with --engine current", () => {
    const given = inputs();
    expect(planRun(["dns"], { ...FLAGS, daemonConfig: "d.json" }, given)).toMatchObject({
      engine: "private",
      daemonConfig: { icc: false },
      helperApplies: false,
    });
    expect(given.read).toEqual(["daemon.json d.json"]);
    expect(refusal(["dns"], { engine: "current", daemonConfig: "d.json" })).toBe(
      "--daemon-config needs a private engine (--engine private)",
    );
    expect(planRun(["dns"], { ...FLAGS, engineVersion: "26" }, inputs())).toMatchObject({
      engine: "private",
      engineVersion: "26",
      helperApplies: false,
    });
    expect(refusal(["dns"], { engine: "current", engineVersion: "26" })).toMatch(
      /^--engine-version runs a private engine of that version; it cannot be combined with --engine current/,
    );
    expect(planRun(["dns"], { ...FLAGS, engine: "private" }, inputs())).toMatchObject({ helperApplies: false });
    // A private Podman: docknet's own engine (no helper); dockerd's daemon.json and versions are not its.
    expect(planRun(["dns"], { ...FLAGS, engine: "podman" }, inputs())).toMatchObject({
      engine: "podman",
      helperApplies: false,
    });
    // With --engine podman the version is Podman's, fetched like a dockerd's; the engine stays Podman.
    expect(planRun(["dns"], { ...FLAGS, engine: "podman", engineVersion: "5.4" }, inputs())).toMatchObject({
      engine: "podman",
      engineVersion: "5.4",
      helperApplies: false,
    });
    expect(refusal(["dns"], { engine: "podman", engineVersion: "podman5" })).toMatch(
      /^"podman5" is neither a Debian suite .* nor a Podman version such as 5 or 5.4$/,
    );
    expect(refusal(["dns"], { engine: "podman", daemonConfig: "d.json" })).toMatch(/Podman has none/);
  });

  test("where multi-host scenarios run: a lab of N, a lab by id, or the user's nodes", () => {
    expect(planRun(["dns"], { ...FLAGS, lab: "3", managers: 2 }, inputs())).toMatchObject({
      cluster: { lab: 3, managers: 2 },
      helperApplies: false,
    });
    expect(planRun(["dns"], { ...FLAGS, lab: "a32f78" }, inputs())).toMatchObject({ cluster: { labId: "a32f78" } });
    expect(planRun(["dns"], { ...FLAGS, nodes: ["unix:///a.sock", "ssh://b"] }, inputs())).toMatchObject({
      cluster: { nodes: ["unix:///a.sock", "ssh://b"] },
      helperApplies: true,
    });
    expect(refusal(["dns"], { lab: "3", nodes: ["a", "b"] })).toMatch(/^--lab and --nodes both name/);
    expect(refusal(["dns"], { nodes: ["a"] })).toMatch(/^--nodes needs at least two swarm nodes/);
    expect(refusal(["dns"], { managers: 2 })).toBe("--managers goes with --lab N");
    expect(refusal(["dns"], { lab: "many" })).toMatch(/^--lab takes a number of hosts/);
    expect(refusal(["dns"], { lab: "1" })).toMatch(/--lab/);
  });

  test("--driver keeps the driver-generic scenarios and counts the others", () => {
    const plan = planRun([], { ...FLAGS, driver: "macvlan" }, inputs());
    expect(plan).toMatchObject({ kind: "run", notForDriver: 1 });
    expect(plan.kind === "run" && plan.scenarios.map((s) => s.id)).toEqual(["UB-01", "ISO-01"]);
    expect(refusal(["dns"], { driver: "macvlan" })).toBe("the selection matches no scenario (see: docknet list)");
  });

  test("--matrix and --kernel-vm: what they cannot be combined with is refused before an engine or a VM starts", () => {
    expect(planRun(["dns"], { ...FLAGS, matrix: ["20.10", "stable"] }, inputs())).toMatchObject({
      kind: "matrix",
      specs: ["20.10", "stable"],
    });
    expect(refusal(["dns"], { matrix: ["20.10"], engine: "current" })).toMatch(
      /^--matrix runs a private engine of each profile/,
    );
    expect(refusal(["dns"], { matrix: ["28", "podman"], profile: "podman" })).toMatch(
      /drop --engine, --engine-version, --profile and --firewall/,
    );
    expect(refusal(["dns"], { matrix: ["no-such-suite"] })).toBe(
      '"no-such-suite" is not an engine profile docknet can start (podman, podman-5.4, podman-trixie, docker, docker-28, 20.10, sid, rootless, docker-28-rootless, docker-iptables-legacy, docker-28-iptables-legacy, docker-firewalld)',
    );
    expect(planRun(["dns"], { ...FLAGS, matrix: ["docker-28", "podman"] }, inputs())).toMatchObject({
      kind: "matrix",
      specs: ["docker-28", "podman"],
    });
    expect(planRun(["dns"], { ...FLAGS, kernelVm: true }, inputs())).toEqual({ kind: "kernel-vm", words: ["dns"] });
    expect(refusal(["dns"], { kernelVm: true, engine: "current", pullProbe: true })).toBe(
      "--kernel-vm cannot be combined with --engine current (the VM has an engine of its own), --pull-probe (the VM has no network)",
    );
    expect(refusal(["dns"], { kernelVm: true, engineVersion: "not-a-version" })).toMatch(/is neither a Debian suite/);
  });

  test("--profile stands for the engine options it names; with them it is refused", () => {
    expect(withProfile({ ...FLAGS, profile: "podman" })).toMatchObject({ engine: "podman" });
    expect(withProfile({ ...FLAGS, profile: "docker-28" })).toMatchObject({ engine: "auto", engineVersion: "28" });
    expect(withProfile({ ...FLAGS, profile: "docker" })).toMatchObject({ engine: "private" });
    expect(withProfile({ ...FLAGS, profile: "Docker:20.10" }).engineVersion).toBe("20.10");
    expect(() => withProfile({ ...FLAGS, profile: "podman", engine: "current" })).toThrow(
      "--profile names the engine: drop --engine and --engine-version",
    );
    expect(withProfile({ ...FLAGS, profile: "rootless" })).toMatchObject({ engine: "rootless" });
    expect(withProfile({ ...FLAGS, profile: "docker-28-rootless" })).toMatchObject({
      engine: "rootless",
      engineVersion: "28",
    });
    // A rootless engine of a version stays rootless once planned (a version makes the engine docknet's own).
    expect(planRun(["dns"], withProfile({ ...FLAGS, profile: "docker-28-rootless" }), inputs())).toMatchObject({
      kind: "run",
      engine: "rootless",
      engineVersion: "28",
      helperApplies: false,
    });
    expect(() => withProfile({ ...FLAGS, profile: "lxd" })).toThrow(/"lxd" is not an engine profile/);
    // A Podman of a version or suite: fetched from Debian like engines.
    expect(withProfile({ ...FLAGS, profile: "podman-5.4" })).toMatchObject({ engine: "podman", engineVersion: "5.4" });
    expect(withProfile({ ...FLAGS, profile: "podman-trixie" })).toMatchObject({ engineVersion: "trixie" });
    expect(() => withProfile({ ...FLAGS, profile: "podman-latest" })).toThrow(
      /"podman-latest" is not an engine profile/,
    );
    // The firewall axis: a private dockerd whose host uses iptables-legacy.
    expect(withProfile({ ...FLAGS, profile: "docker-28-iptables-legacy" })).toMatchObject({
      engineVersion: "28",
      firewall: "iptables-legacy",
    });
    expect(planRun(["dns"], withProfile({ ...FLAGS, profile: "docker-iptables-legacy" }), inputs())).toMatchObject({
      kind: "run",
      engine: "private",
      firewall: "iptables-legacy",
    });
    expect(refusal(["dns"], { engine: "podman", firewall: "iptables-legacy" })).toBe(
      "--firewall chooses the iptables of docknet's own private dockerd; it cannot be combined with --engine podman",
    );
    expect(withProfile({ ...FLAGS, profile: "docker-28-firewalld" })).toMatchObject({
      engineVersion: "28",
      firewall: "firewalld",
    });
    expect(withProfile({ ...FLAGS, profile: "docker-firewalld" })).toMatchObject({
      engine: "private",
      firewall: "firewalld",
    });
    // --firewall alone makes the engine docknet's own, as a version does.
    expect(planRun(["dns"], { ...FLAGS, firewall: "iptables-legacy" }, inputs())).toMatchObject({ engine: "private" });
  });
});
