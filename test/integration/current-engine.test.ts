import { execFileSync } from "node:child_process";
import { chmodSync } from "node:fs";
import { dirname } from "node:path";
import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Engine } from "../../harness/engine/engine.js";
import { startPrivateEngine } from "../../harness/engine/private-engine.js";
import { listNamespaces } from "../../harness/engine/netns.js";
import { docknetLeftovers } from "./leftovers.js";
import { docknet } from "./run-cli.js";

interface Report {
  engine: { outsideHost?: { engineAddress: string }; outsideHostMissing?: string; macvlanParent?: string };
  results: { id: string; status: string; reason?: string; evidence: { claim: string; observed: string }[] }[];
}

/**
 * An engine docknet did not start, reached as the current engine (DOCKER_HOST):
 * here a private engine stands in for a system dockerd, since this machine has
 * none running. docknet finds the namespace its dockerd runs in and builds the
 * outside host beside it, as it would beside a system engine on the host.
 */
describe("the current engine: an outside host beside it, and --macvlan-parent", () => {
  let engine: Engine;
  let netns: string;
  const env = () => ({ DOCKER_HOST: engine.dockerHost });
  const run = async (args: string[], prefix?: string[]) => {
    const out = await docknet(["run", ...args, "--engine", "current", "--json", "-"], {
      env: env(),
      ...(prefix ? { prefix } : {}),
    });
    return { ...out, report: out.code === 0 || out.code === 1 ? (JSON.parse(out.stdout) as Report) : undefined };
  };
  const statusOf = (report: Report | undefined) =>
    Object.fromEntries((report?.results ?? []).map((r) => [r.id, r.status]));
  const links = () =>
    (
      JSON.parse(execFileSync("ip", ["-n", netns, "-j", "link", "show"], { encoding: "utf8" })) as { ifname: string }[]
    ).map((l) => l.ifname);
  const outsideNamespaces = () => listNamespaces().filter((n) => n.startsWith("docknet-outside-"));
  const labelledNetworks = async () =>
    new Docker({ socketPath: engine.dockerHost.slice("unix://".length) }).listNetworks({
      filters: { label: ["io.docknet.run"] },
    });

  beforeAll(async () => {
    engine = await startPrivateEngine();
    netns = engine.netns!;
    // A parent of the user's: a veth pair docknet's scenarios did not make (and a second one, down).
    execFileSync("ip", ["-n", netns, "link", "add", "userlan0", "type", "veth", "peer", "name", "userlan1"]);
    for (const dev of ["userlan0", "userlan1"]) execFileSync("ip", ["-n", netns, "link", "set", dev, "up"]);
    execFileSync("ip", ["-n", netns, "link", "add", "userdown0", "type", "veth", "peer", "name", "userdown1"]);
  });

  afterAll(async () => {
    await engine?.stop();
    expect(docknetLeftovers()).toEqual([]);
  });

  test("egress, DNS and macvlan scenarios run beside it, on a /30 of their own; nothing of the outside host is left", async () => {
    const before = links();
    const out = await run(["DB-05", "PP-05", "DNS-05", "MV-06", "MV-07", "FW-04"]);
    expect(out.code, out.stderr).toBe(0);
    const report = out.report!;
    // The engine's namespace already routes 10.213.255.0/30 (its own outside host): the next /30 is taken.
    expect(report.engine.outsideHost?.engineAddress).toBe("10.213.255.5");
    expect(statusOf(report)).toEqual({
      "DB-05": "passed",
      "PP-05": "passed",
      "DNS-05": "passed",
      "MV-06": "passed",
      "MV-07": "passed",
      "FW-04": "skipped",
    });
    const db05 = report.results.find((r) => r.id === "DB-05")!;
    expect(db05.evidence.at(-1)!.observed).toBe("10.213.255.5");
    // Firewall changes stay on docknet's own engines.
    expect(report.results.find((r) => r.id === "FW-04")!.reason).toMatch(
      /changes firewalls, resolvers and daemon settings only on its own engines' hosts/,
    );
    expect(links()).toEqual(before);
    expect(outsideNamespaces()).toEqual([]);
    expect(docknetLeftovers().filter((l) => l.startsWith("outside host directory"))).toEqual([]);
  });

  test("--macvlan-parent: macvlan networks use the named interface, scenarios that need docknet's LAN skip, and the parent is left as it was", async () => {
    const out = await run(["macvlan", "--macvlan-parent", "userlan0"]);
    expect(out.code, out.stderr).toBe(0);
    const report = out.report!;
    expect(report.engine.macvlanParent).toBe("userlan0");
    expect(statusOf(report)).toMatchObject({
      "MV-05": "passed",
      "MV-07": "passed",
      "MV-06": "skipped",
      "MV-02": "skipped",
      "MV-04": "skipped",
    });
    expect(report.results.find((r) => r.id === "MV-06")!.reason).toMatch(
      /the LAN behind --macvlan-parent userlan0 is yours, not docknet's/,
    );
    expect(report.results.find((r) => r.id === "MV-07")!.evidence.map((e) => e.claim)).toContain(
      "ip addr add 10.216.0.254/24 dev userlan0",
    );
    expect(
      execFileSync("ip", ["-n", netns, "-o", "addr", "show", "dev", "userlan0"], { encoding: "utf8" }),
    ).not.toMatch(/inet /);
    expect(await labelledNetworks()).toEqual([]);
  });

  test("a --macvlan-parent that is missing, down, held in passthru, or not a name: one line, exit 2, nothing made", async () => {
    const docker = new Docker({ socketPath: engine.dockerHost.slice("unix://".length) });
    const holder = await docker.createNetwork({
      Name: "user-passthru",
      Driver: "macvlan",
      Options: { parent: "userlan0", macvlan_mode: "passthru" },
    });
    try {
      const cases: [string, RegExp][] = [
        ["nosuch0", /--macvlan-parent nosuch0 does not exist on the engine's host \(it has .*userlan0/],
        ["userdown0", /--macvlan-parent userdown0 is down: bring it up first/],
        ["userlan0", /--macvlan-parent userlan0 is held in passthru mode by network user-passthru/],
        ["no/such", /"no\/such" is not an interface name/],
      ];
      for (const [parent, message] of cases) {
        const out = await run(["MV-05", "--macvlan-parent", parent]);
        expect(out.code, out.stderr).toBe(2);
        expect(out.stderr.trim().split("\n").at(-1)).toMatch(message);
      }
    } finally {
      await holder.remove();
    }
    expect(await labelledNetworks()).toEqual([]);
    expect(outsideNamespaces()).toEqual([]);
    // A private engine has a namespace of its own: the user's interface is not there.
    const own = await docknet(["run", "MV-05", "--engine", "private", "--macvlan-parent", "userlan0"]);
    expect(own.code).toBe(2);
    expect(own.stderr).toMatch(
      /a private engine has a namespace of its own: name your interface with --engine current/,
    );
  });

  test("not root, with --no-helper: the outside host is not built, and its scenarios skip saying why", async () => {
    const socket = engine.dockerHost.slice("unix://".length);
    const paths = [socket, dirname(socket), dirname(dirname(socket)), dirname(dirname(dirname(socket)))];
    const saved = paths.map((p) => parseInt(execFileSync("stat", ["-c", "%a", p], { encoding: "utf8" }).trim(), 8));
    // Let uid 65534 reach the socket, as membership of the docker group would.
    chmodSync(socket, 0o666);
    for (const dir of paths.slice(1)) chmodSync(dir, 0o755);
    try {
      const out = await run(
        ["DB-05", "MV-07", "--no-helper"],
        ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups"],
      );
      expect(out.code, out.stderr).toBe(0);
      for (const result of out.report!.results) {
        expect(result.status).toBe("skipped");
        expect(result.reason).toMatch(/^docknet is not root and --no-helper refuses the helper container: /);
      }
    } finally {
      paths.forEach((p, i) => chmodSync(p, saved[i]!));
    }
    expect(outsideNamespaces()).toEqual([]);
  });

  test("after a crash, docknet clean removes the outside host it left beside the engine", async () => {
    const out = await docknet(["run", "MV-06", "--engine", "current"], {
      env: env(),
      onStderr: (text, child) => {
        if (/^engine: /m.test(text)) child.kill("SIGKILL");
      },
    });
    expect(out.signal).toBe("SIGKILL");
    expect(outsideNamespaces().length).toBe(1);
    const clean = await docknet(["clean"], { env: env() });
    expect(clean.code, clean.stderr).toBe(0);
    expect(clean.stderr).toMatch(/outside hosts beside the current engine removed: 1/);
    expect(outsideNamespaces()).toEqual([]);
    expect(links().filter((l) => /^(dnu|mvp)/.test(l) && !l.endsWith(engine.netns!.replace("docknet-", "")))).toEqual(
      [],
    );
  });
});
