import { execFileSync } from "node:child_process";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import Docker from "dockerode";
import { XMLParser } from "fast-xml-parser";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Engine } from "../../harness/engine/engine.js";
import { startPrivateEngine } from "../../harness/engine/private-engine.js";
import { ensureProbeImage } from "../../harness/lab/probe-image.js";
import { tempDir } from "../temp-dir.js";
import { docknetLeftovers } from "./leftovers.js";
import { docknet } from "./run-cli.js";

interface Finding {
  id: string;
  status: string;
  severity?: string;
  seen: string[];
  reason?: string;
}

/**
 * The doctor on a real engine: a private engine whose namespace takes real
 * faults (never the host's own settings), one at a time, each undone after.
 */
describe("docknet doctor on a private engine", () => {
  let engine: Engine;
  let netns: string;
  let egress: string;
  let daemonJson: string;

  beforeAll(async () => {
    engine = await startPrivateEngine();
    netns = engine.netns!;
    daemonJson = join(dirname(engine.logFile!), "daemon.json");
    const routes = JSON.parse(
      execFileSync("ip", ["-n", netns, "-j", "route", "show", "default"], { encoding: "utf8" }),
    ) as { dev: string }[];
    egress = routes[0]!.dev;
  });

  afterAll(async () => {
    await engine?.stop();
    expect(docknetLeftovers()).toEqual([]);
  });

  const inEngineNetns = (...argv: string[]) =>
    execFileSync("nsenter", [`--net=/run/netns/${netns}`, ...argv], { encoding: "utf8" });

  async function doctor(args: string[] = [], options: { prefix?: string[] } = {}) {
    const out = await docknet(["doctor", "--json", "-", ...args], {
      env: { DOCKER_HOST: engine.dockerHost },
      ...options,
    });
    const report = JSON.parse(out.stdout || "{}") as { results: Finding[]; vantage: string };
    const find = (id: string) => report.results.find((r) => r.id === id)!;
    return { ...out, report, find };
  }

  test("a fresh engine gives no error and no warning, and exits 0", async () => {
    const out = await doctor(["--fail-on", "warn"]);
    expect(out.code, out.stderr).toBe(0);
    expect(out.report.vantage).toMatch(/network namespace of dockerd \(pid \d+\)/);
    expect(out.report.results.filter((r) => r.status === "finding" && r.severity !== "info")).toEqual([]);
    expect(out.report.results.filter((r) => r.status === "error")).toEqual([]);
    expect(out.stderr).toMatch(/^\d+ checks: \d+ ok, 0 errors, 0 warnings, \d+ info, \d+ skipped in \d+\.\ds$/m);
  });

  const FAULTS: Array<{
    name: string;
    check: string;
    severity: string;
    seen: RegExp;
    apply: () => void;
    undo: () => void;
  }> = [
    {
      name: "ip_forward off",
      check: "D-HOST-01",
      severity: "error",
      seen: /net\.ipv4\.ip_forward = 0/,
      apply: () => inEngineNetns("sh", "-c", "echo 0 > /proc/sys/net/ipv4/ip_forward"),
      undo: () => inEngineNetns("sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward"),
    },
    {
      name: "FORWARD DROP with a VM bridge and no accept rule",
      check: "D-FW-01",
      severity: "error",
      seen: /bridge virbr0 is not Docker's and no rule accepts its traffic/,
      apply: () => execFileSync("ip", ["-n", netns, "link", "add", "virbr0", "type", "bridge"]),
      undo: () => execFileSync("ip", ["-n", netns, "link", "del", "virbr0"]),
    },
    {
      name: "a route overlapping the default bridge",
      check: "D-ADDR-01",
      severity: "error",
      seen: /network bridge 172\.17\.0\.0\/16 overlaps route 172\.17\.0\.0\/24 via 10\.213\.255\.2/,
      apply: () => execFileSync("ip", ["-n", netns, "route", "add", "172.17.0.0/24", "via", "10.213.255.2"]),
      undo: () => execFileSync("ip", ["-n", netns, "route", "del", "172.17.0.0/24"]),
    },
    {
      name: "an egress MTU smaller than the bridges'",
      check: "D-MTU-01",
      severity: "error",
      seen: /MTU 1400/,
      apply: () => execFileSync("ip", ["-n", netns, "link", "set", egress, "mtu", "1400"]),
      undo: () => execFileSync("ip", ["-n", netns, "link", "set", egress, "mtu", "1500"]),
    },
    {
      name: "a daemon.json key dockerd will refuse at its next start",
      check: "D-DMN-06",
      severity: "error",
      seen: /unknown key "bridge-nf-call": dockerd refuses to start/,
      apply: () => writeFileSync(daemonJson, JSON.stringify({ "bridge-nf-call": true })),
      undo: () => writeFileSync(daemonJson, "{}"),
    },
  ];

  test.each(FAULTS)(
    "$name: $check $severity, exit 1; undone, it is gone",
    async ({ check, severity, seen, apply, undo }) => {
      apply();
      try {
        const out = await doctor();
        expect(out.find(check), out.stderr).toMatchObject({ status: "finding", severity });
        expect(out.find(check).seen.join("\n")).toMatch(seen);
        expect(out.code).toBe(1);
        expect(out.stderr).toMatch(new RegExp(`^  ${check} `, "m"));
      } finally {
        undo();
      }
      expect((await doctor()).find(check).status).toBe("ok");
    },
  );

  test("a port published on every address is a warning: exit 0 at --fail-on error, 1 at warn", async () => {
    const docker = new Docker({ socketPath: engine.dockerHost.slice("unix://".length) });
    const image = await ensureProbeImage(docker);
    const container = await docker.createContainer({
      Image: image,
      name: "wide-open",
      Cmd: ["sleep", "600"],
      ExposedPorts: { "80/tcp": {} },
      HostConfig: { PortBindings: { "80/tcp": [{ HostPort: "18080" }] } },
    });
    await container.start();
    try {
      const atError = await doctor();
      expect(atError.code).toBe(0);
      expect(atError.find("D-CTR-02")).toMatchObject({ status: "finding", severity: "warn" });
      expect(atError.find("D-CTR-02").seen.join("\n")).toMatch(/wide-open: 0\.0\.0\.0:18080 -> 80\/tcp/);
      expect((await doctor(["--fail-on", "warn"])).code).toBe(1);
    } finally {
      await container.remove({ force: true });
    }
  });

  test("not root: the host is read through a helper container, which still finds ip_forward off, and is removed", async () => {
    const socket = engine.dockerHost.slice("unix://".length);
    const modes = [socket, dirname(socket), dirname(dirname(socket)), dirname(dirname(dirname(socket)))];
    const saved = modes.map((p) =>
      Number(execFileSync("stat", ["-c", "%a", p], { encoding: "utf8" }).trim()).toString(),
    );
    // Let uid 65534 reach the socket, as membership of the docker group would.
    chmodSync(socket, 0o666);
    for (const dir of modes.slice(1)) chmodSync(dir, 0o755);
    inEngineNetns("sh", "-c", "echo 0 > /proc/sys/net/ipv4/ip_forward");
    try {
      const out = await doctor([], { prefix: ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups"] });
      expect(out.report.vantage).toMatch(/helper container on the engine \(not root/);
      expect(out.find("D-HOST-01"), out.stderr).toMatchObject({ status: "finding", severity: "error" });
      expect(out.find("D-ENG-01")).toMatchObject({ status: "finding", severity: "info" });
      expect(out.find("D-FW-05").status).toBe("ok");
      const docker = new Docker({ socketPath: socket });
      expect(await docker.listContainers({ all: true })).toEqual([]);
    } finally {
      inEngineNetns("sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward");
      modes.forEach((p, i) => chmodSync(p, parseInt(saved[i]!, 8)));
    }
  });

  test("JUnit has one testcase per check, errors fail; Markdown lists the findings first", async () => {
    const dir = tempDir("doctor");
    inEngineNetns("sh", "-c", "echo 0 > /proc/sys/net/ipv4/ip_forward");
    try {
      const out = await docknet(["doctor", "--junit", join(dir, "doctor.xml"), "--markdown", join(dir, "doctor.md")], {
        env: { DOCKER_HOST: engine.dockerHost },
      });
      expect(out.code).toBe(1);
    } finally {
      inEngineNetns("sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward");
    }
    const junit = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "" }).parse(
      readFileSync(join(dir, "doctor.xml"), "utf8"),
    );
    const cases = [junit.testsuites.testsuite.testcase].flat() as { name: string; failure?: { message: string } }[];
    const { ALL_CHECKS } = await import("../../harness/doctor/catalog.js");
    expect(cases.length).toBe(ALL_CHECKS.length);
    expect(cases.filter((c) => c.failure).map((c) => c.name.split(" ")[0])).toEqual(["D-HOST-01"]);
    const markdown = readFileSync(join(dir, "doctor.md"), "utf8");
    expect(markdown).toMatch(/^## docknet doctor/);
    expect(markdown.indexOf("**D-HOST-01**")).toBeLessThan(markdown.indexOf("<details>"));
  });
});

describe("docknet doctor: bad input and other engines", () => {
  test("an unknown check, and --daemon-config without a private engine, exit 2 in one line", async () => {
    const unknown = await docknet(["doctor", "--check", "HOST-99"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.trim().split("\n")).toEqual([
      expect.stringMatching(/^docknet: unknown check HOST-99 \(checks: D-ENG-01 /),
    ]);
    // A scenario-style ID names the check it meant.
    const unprefixed = await docknet(["doctor", "--check", "HOST-01"]);
    expect(unprefixed.code).toBe(2);
    expect(unprefixed.stderr.trim()).toBe(
      "docknet: unknown check HOST-01 (doctor checks are D-…: did you mean D-HOST-01?)",
    );
    const config = await docknet(["doctor", "--daemon-config", "/dev/null"]);
    expect(config.code).toBe(2);
    expect(config.stderr).toMatch(/--daemon-config needs --engine private/);
    expect((await docknet(["doctor", "--fail-on", "sometimes"])).code).toBe(2);
  });

  test("a DOCKER_HOST that does not answer is exit 3, not an audit of nothing", async () => {
    const out = await docknet(["doctor"], { env: { DOCKER_HOST: "tcp://127.0.0.1:1" } });
    expect(out.code).toBe(3);
    expect(out.stderr).toMatch(/no engine answers at tcp:\/\/127\.0\.0\.1:1 \(from DOCKER_HOST\)/);
  });

  test("no engine at the default socket: this machine alone is audited, engine checks skipped, never passed", async () => {
    const out = await docknet(["doctor", "--json", "-"]);
    const report = JSON.parse(out.stdout) as { results: Finding[] };
    expect(out.stderr).toMatch(/no engine answers at unix:\/\/\/var\/run\/docker\.sock; auditing this machine only/);
    const ctr = report.results.find((r) => r.id === "D-CTR-02")!;
    expect(ctr).toMatchObject({ status: "skipped", reason: expect.stringMatching(/no engine answers/) });
    expect(report.results.find((r) => r.id === "D-KCFG-01")?.status).toBe("ok");
    // What describes an engine is not judged where none runs: forwarding off is a fresh machine's normal state.
    for (const id of ["D-HOST-01", "D-FW-05", "D-DMN-02"]) {
      expect(report.results.find((r) => r.id === id)).toMatchObject({
        status: "skipped",
        reason: expect.stringMatching(/^no engine on this machine/),
      });
    }
    expect(out.code, out.stderr).toBe(0);
    // Skips are grouped: one line a reason.
    const console = await docknet(["doctor", "--no-color"]);
    const skipLines = console.stderr.split("\n").filter((l) => /: no engine on this machine/.test(l));
    expect(skipLines).toHaveLength(1);
    expect(skipLines[0]).toMatch(/HOST-01.*FW-05|FW-05.*HOST-01/);
  });

  test("--engine private audits a throwaway engine with the daemon.json given, then removes it", async () => {
    const dir = tempDir("doctor");
    writeFileSync(join(dir, "daemon.json"), JSON.stringify({ "ip-masq": false, icc: false }));
    const out = await docknet([
      "doctor",
      "--engine",
      "private",
      "--daemon-config",
      join(dir, "daemon.json"),
      "--json",
      "-",
    ]);
    expect(out.code, out.stderr).toBe(0);
    const report = JSON.parse(out.stdout) as { results: Finding[] };
    expect(report.results.find((r) => r.id === "D-DMN-07")).toMatchObject({ status: "finding", severity: "warn" });
    expect(report.results.find((r) => r.id === "D-DMN-09")).toMatchObject({ status: "finding", severity: "info" });
    expect(docknetLeftovers()).toEqual([]);
  });
});
