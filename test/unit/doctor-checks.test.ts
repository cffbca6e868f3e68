import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import type { CheckResult, Severity } from "../../harness/doctor/check.js";
import { ALL_CHECKS } from "../../harness/doctor/catalog.js";
import { diagnose, doctorFailed, explanationsFor, summarizeChecks } from "../../harness/doctor/doctor.js";
import { planVantage } from "../../harness/doctor/collect.js";
import { findDockerdServing, parseDockerdListing } from "../../harness/doctor/dockerd-process.js";
import { KERNEL_TIERS } from "../../harness/doctor/checks/kernel.js";
import { parseProcNetTcp } from "../../harness/doctor/facts.js";
import type { Reading, ReadingKey, Readings } from "../../harness/doctor/readings.js";

/**
 * Readings captured from docknet private engines (Docker 20.10 on this
 * machine's kernel): a fresh engine, and a busy one with published ports, a
 * host-network container, NET_ADMIN, an IPv6, an internal and an icc=false network.
 */
const load = (name: string) =>
  JSON.parse(readFileSync(new URL(`../fixtures/doctor/${name}.json`, import.meta.url), "utf8")) as Readings;
const FRESH = load("private-engine-20.10");
const BUSY = load("busy-engine-20.10");

type Patch = Partial<Record<ReadingKey, Reading | ((text: string) => string)>>;

/** A copy of the readings with some replaced (a Reading) or rewritten (a function of the captured text). */
function patched(base: Readings, patch: Patch): Readings {
  const readings = { ...base.readings };
  for (const [key, change] of Object.entries(patch) as Array<[ReadingKey, Reading | ((t: string) => string)]>) {
    if (typeof change === "function") {
      const current = readings[key];
      if (!current || !("text" in current)) throw new Error(`fixture has no text for ${key}`);
      readings[key] = { source: current.source, text: change(current.text) };
    } else readings[key] = change;
  }
  return { ...base, readings };
}

const json =
  <T>(f: (value: T) => T) =>
  (text: string) =>
    JSON.stringify(f(JSON.parse(text) as T));
type Net = {
  Name: string;
  Driver: string;
  Internal?: boolean;
  EnableIPv6?: boolean;
  Options?: Record<string, string>;
  IPAM?: { Config?: Array<{ Subnet?: string }> };
};
type Ctr = {
  Name: string;
  State?: Record<string, unknown>;
  HostConfig?: Record<string, unknown>;
  NetworkSettings?: Record<string, unknown>;
};
const networks = (f: (n: Net[]) => Net[]) => json<Net[]>(f);
const containers = (f: (c: Ctr[]) => Ctr[]) => json<Ctr[]>(f);
const info = (f: (i: Record<string, unknown>) => Record<string, unknown>) => json<Record<string, unknown>>(f);
/** The engine's /version answering another version. */
const engineVersion = (version: string) => json<Record<string, unknown>>((v) => ({ ...v, Version: version }));
const setDaemonJson = (config: unknown): Reading => ({
  source: "/etc/docker/daemon.json",
  text: JSON.stringify(config),
});
const text = (source: string, value: string): Reading => ({ source, text: value });
const addRoute = (route: Record<string, unknown>) => json<unknown[]>((routes) => [...routes, route]);
const withAllKernelOptions = (t: string) =>
  `${t}${Object.values(KERNEL_TIERS)
    .flat()
    .map((o) => `${o}=m`)
    .join("\n")}\n`;
const defaultRouteDev = (FRESH.readings["ip.routes"] as { text: string }).text.match(
  /"dst":"default"[^}]*"dev":"([^"]+)"/,
)![1]!;

interface Case {
  /** What the check says on the fresh engine. */
  readonly fresh: "ok" | "skipped" | Severity;
  /** For checks whose fresh verdict is a finding: a setup where it is ok. */
  readonly fixed?: Patch;
  /** A broken setup, and the severity it must be reported with. */
  readonly broken: { readonly base?: Readings; readonly patch: Patch; readonly severity: Severity };
}

const CASES: Record<string, Case> = {
  "D-ENG-01": {
    fresh: "ok",
    broken: {
      base: {
        ...FRESH,
        vantage: "a host-network helper container on the engine (the engine at tcp://10.0.0.1:2376 is remote)",
        vantageKind: "helper",
      },
      patch: {},
      severity: "info",
    },
  },
  "D-RL-01": {
    fresh: "ok",
    broken: {
      patch: {
        "engine.info": info((i) => ({ ...i, SecurityOptions: ["name=seccomp,profile=default", "name=rootless"] })),
      },
      severity: "info",
    },
  },
  "D-HOST-01": { fresh: "ok", broken: { patch: { "sysctl.net.ipv4.ip_forward": () => "0\n" }, severity: "error" } },
  "D-HOST-02": {
    fresh: "skipped",
    broken: {
      base: BUSY,
      patch: {
        "sysctl.net.bridge.bridge-nf-call-iptables": {
          source: "cat /proc/sys/net/bridge/bridge-nf-call-iptables",
          unavailable: "No such file or directory",
        },
      },
      severity: "warn",
    },
  },
  "D-HOST-03": {
    fresh: "ok",
    broken: {
      patch: { "netmanager.networkd": text("networkctl list", "  3 docker0 bridge routable configured\n") },
      severity: "warn",
    },
  },
  "D-FW-01": {
    fresh: "ok",
    broken: {
      patch: {
        "ip.links": json<unknown[]>((l) => [
          ...l,
          { ifname: "virbr0", mtu: 1500, flags: ["UP"], linkinfo: { info_kind: "bridge" } },
        ]),
      },
      severity: "error",
    },
  },
  "D-FW-02": {
    fresh: "ok",
    broken: {
      patch: { "iptables.filter": (t) => t.replace("-P FORWARD DROP", "-P FORWARD ACCEPT") },
      severity: "warn",
    },
  },
  "D-FW-03": {
    fresh: "ok",
    broken: { base: BUSY, patch: { "firewall.ufw": text("ufw status", "Status: active\n") }, severity: "error" },
  },
  "D-FW-04": {
    fresh: "ok",
    broken: { patch: { "firewall.firewalld": text("firewall-cmd --state", "running\n") }, severity: "warn" },
  },
  "D-FW-05": {
    fresh: "ok",
    broken: {
      patch: {
        "iptables.filter": (t) =>
          t
            .split("\n")
            .filter((l) => !l.includes("DOCKER-USER"))
            .join("\n"),
      },
      severity: "error",
    },
  },
  "D-FW-09": {
    fresh: "ok",
    broken: {
      patch: {
        "iptables.filter": (t) =>
          t.replace(
            "-A DOCKER-USER -j RETURN",
            "-A DOCKER-USER -i eth0 -p tcp --dport 8080 -j DROP\n-A DOCKER-USER -j RETURN",
          ),
      },
      severity: "warn",
    },
  },
  "D-FW-06": {
    fresh: "ok",
    broken: {
      patch: { "iptables.legacy-save": text("iptables-legacy-save", "*filter\n-A INPUT -j ACCEPT\nCOMMIT\n") },
      severity: "error",
    },
  },
  "D-FW-07": {
    fresh: "ok",
    broken: {
      patch: {
        "engine.info": info((i) => ({
          ...i,
          FirewallBackend: { Driver: "nftables" },
          Swarm: { LocalNodeState: "active" },
        })),
      },
      severity: "warn",
    },
  },
  "D-FW-08": {
    fresh: "ok",
    broken: { patch: { "file.daemon.json": setDaemonJson({ iptables: false }) }, severity: "error" },
  },
  "D-FW-10": {
    // Docker 20.10: FORWARD's jumps are the ones every network create deletes and inserts again.
    fresh: "info",
    fixed: {
      "engine.version": engineVersion("28.5.2"),
      "iptables.filter": (t) => t.replace("-A FORWARD -j DOCKER-ISOLATION-STAGE-1\n", "-A FORWARD -j DOCKER-FORWARD\n"),
    },
    broken: { base: BUSY, patch: {}, severity: "info" },
  },
  "D-ADDR-01": {
    fresh: "ok",
    broken: {
      patch: {
        "ip.routes": addRoute({ dst: "172.17.0.0/24", gateway: "10.213.255.2", dev: defaultRouteDev, flags: [] }),
      },
      severity: "error",
    },
  },
  "D-ADDR-03": {
    fresh: "ok",
    broken: {
      patch: { "ip.routes": addRoute({ dst: "172.29.4.0/24", gateway: "10.8.0.1", dev: "tun0", flags: [] }) },
      severity: "warn",
    },
  },
  "D-ADDR-02": {
    fresh: "ok",
    broken: {
      patch: { "file.daemon.json": setDaemonJson({ "default-address-pools": [{ base: "172.17.0.0/16", size: 16 }] }) },
      severity: "error",
    },
  },
  "D-MTU-01": {
    fresh: "ok",
    broken: {
      patch: { "ip.links": (t) => t.replace(new RegExp(`("ifname":"${defaultRouteDev}"[^}]*?"mtu":)1500`), "$11400") },
      severity: "error",
    },
  },
  "D-MTU-03": {
    fresh: "skipped",
    broken: {
      patch: {
        "env.container": text("/.dockerenv", "yes"),
        "env.ci": text("CI", "GITLAB_CI"),
        "ip.links": (t) => t.replace(new RegExp(`("ifname":"${defaultRouteDev}"[^}]*?"mtu":)1500`), "$11360"),
      },
      severity: "error",
    },
  },
  "D-DNS-01": {
    fresh: "ok",
    broken: {
      patch: { "file.resolv.conf": text("/etc/resolv.conf", "nameserver 127.0.0.53\noptions edns0\n") },
      severity: "warn",
    },
  },
  "D-DNS-02": {
    fresh: "ok",
    broken: {
      patch: {
        "file.resolv.conf.target": text(
          "readlink",
          JSON.stringify({ link: "../run/systemd/resolve/stub-resolv.conf", target: null, exists: false }),
        ),
      },
      severity: "error",
    },
  },
  "D-DNS-04": {
    fresh: "skipped",
    broken: {
      base: BUSY,
      patch: { "file.resolv.conf": text("/etc/resolv.conf", "nameserver 127.0.0.53\n") },
      severity: "warn",
    },
  },
  "D-DMN-01": {
    fresh: "info",
    fixed: {
      "engine.networks": networks((n) =>
        n.map((x) =>
          x.Name === "bridge"
            ? { ...x, Options: { ...x.Options, "com.docker.network.bridge.enable_icc": "false" } }
            : x,
        ),
      ),
    },
    broken: { patch: {}, severity: "info" },
  },
  "D-DMN-09": {
    fresh: "ok",
    broken: {
      patch: {
        "engine.networks": networks((n) =>
          n.map((x) =>
            x.Name === "bridge"
              ? { ...x, Options: { ...x.Options, "com.docker.network.bridge.enable_icc": "false" } }
              : x,
          ),
        ),
      },
      severity: "info",
    },
  },
  "D-DMN-02": {
    fresh: "info",
    fixed: { "file.daemon.json": setDaemonJson({ "userland-proxy": false }) },
    broken: { patch: {}, severity: "info" },
  },
  "D-DMN-03": {
    fresh: "ok",
    broken: {
      patch: { "dockerd.cmdline": text("/proc/1/cmdline", JSON.stringify(["dockerd", "-H", "tcp://0.0.0.0:2375"])) },
      severity: "error",
    },
  },
  "D-DMN-04": { fresh: "ok", broken: { base: BUSY, patch: {}, severity: "warn" } },
  "D-DMN-05": {
    fresh: "ok",
    broken: {
      patch: { "engine.info": info((i) => ({ ...i, Warnings: ["WARNING: IPv4 forwarding is disabled"] })) },
      severity: "warn",
    },
  },
  "D-DMN-06": {
    fresh: "ok",
    broken: {
      patch: { "file.daemon.json": setDaemonJson({ "bogus-key": true, "ip-forward-no-drop": true }) },
      severity: "error",
    },
  },
  "D-DMN-07": {
    fresh: "ok",
    broken: { patch: { "file.daemon.json": setDaemonJson({ "ip-masq": false }) }, severity: "warn" },
  },
  "D-DMN-08": {
    fresh: "ok",
    broken: {
      patch: { "file.daemon.json": setDaemonJson({ bip: "10.200.0.1/24", "fixed-cidr": "10.201.0.0/25" }) },
      severity: "error",
    },
  },
  "D-IPV6-01": { fresh: "skipped", broken: { base: BUSY, patch: {}, severity: "warn" } },
  "D-IPV6-03": {
    fresh: "ok",
    broken: { base: BUSY, patch: { "sysctl.net.ipv6.conf.all.disable_ipv6": () => "1\n" }, severity: "warn" },
  },
  "D-IPV6-04": {
    fresh: "skipped",
    broken: { base: BUSY, patch: { "sysctl.net.ipv6.conf.all.forwarding": () => "0\n" }, severity: "warn" },
  },
  "D-KCFG-01": {
    fresh: "ok",
    broken: { patch: { "kernel.config": (t) => t.replace("CONFIG_VETH=", "# CONFIG_VETH=") }, severity: "error" },
  },
  "D-KCFG-02": {
    fresh: "info",
    fixed: { "kernel.config": withAllKernelOptions },
    broken: {
      patch: { "engine.info": info((i) => ({ ...i, Swarm: { LocalNodeState: "active" } })) },
      severity: "error",
    },
  },
  "D-KCFG-03": {
    fresh: "ok",
    broken: {
      patch: {
        "engine.networks": networks((n) => [...n, { Name: "mesh", Driver: "overlay", Options: {} }]),
        "kernel.config": (t) => t.replace("CONFIG_VXLAN=", "# CONFIG_VXLAN="),
      },
      severity: "error",
    },
  },
  "D-KCFG-05": {
    fresh: "info",
    fixed: { "kernel.config": withAllKernelOptions },
    broken: {
      patch: {
        "engine.networks": networks((n) => [...n, { Name: "secret", Driver: "overlay", Options: { encrypted: "" } }]),
      },
      severity: "error",
    },
  },
  "D-KCFG-04": {
    fresh: "info",
    fixed: { "kernel.config": withAllKernelOptions },
    broken: {
      patch: {
        "engine.networks": networks((n) => [...n, { Name: "lan", Driver: "macvlan", Options: { parent: "eth0" } }]),
      },
      severity: "error",
    },
  },
  "D-KCFG-06": {
    fresh: "info",
    fixed: { "kernel.config": withAllKernelOptions },
    broken: {
      patch: { "engine.networks": networks((n) => [...n, { Name: "l3", Driver: "ipvlan", Options: {} }]) },
      severity: "error",
    },
  },
  "D-CTR-01": { fresh: "ok", broken: { base: BUSY, patch: {}, severity: "warn" } },
  "D-CTR-02": { fresh: "ok", broken: { base: BUSY, patch: {}, severity: "warn" } },
  "D-CTR-03": { fresh: "ok", broken: { base: BUSY, patch: {}, severity: "info" } },
  "D-CTR-04": { fresh: "ok", broken: { base: BUSY, patch: {}, severity: "info" } },
  "D-CTR-05": { fresh: "ok", broken: { base: BUSY, patch: {}, severity: "warn" } },
  "D-CTR-06": {
    fresh: "ok",
    broken: {
      patch: {
        "engine.containers": containers(() => [
          {
            Name: "/api",
            State: {
              Status: "created",
              Error:
                "driver failed programming external connectivity: Bind for 0.0.0.0:8080 failed: port is already allocated",
            },
          },
        ]),
      },
      severity: "error",
    },
  },
  "D-SWM-01": {
    fresh: "ok",
    broken: {
      patch: { "engine.info": info((i) => ({ ...i, Swarm: { LocalNodeState: "active" } })) },
      severity: "info",
    },
  },
  "D-SWM-02": {
    fresh: "skipped",
    broken: {
      patch: {
        "engine.info": info((i) => ({ ...i, Swarm: { LocalNodeState: "active" } })),
        "proc.net.tcp": (t) =>
          `${t}   9: 00000000:0949 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0\n`,
      },
      severity: "warn",
    },
  },
  "D-SWM-03": {
    fresh: "skipped",
    broken: {
      patch: { "engine.networks": networks((n) => [...n, { Name: "ingress", Driver: "overlay", Options: {} }]) },
      severity: "warn",
    },
  },
};

const resultOf = (readings: Readings, id: string): CheckResult =>
  diagnose(
    readings,
    ALL_CHECKS.filter((c) => c.id === id),
  )[0]!;
const outcome = (r: CheckResult) => (r.status === "finding" ? r.severity : r.status);

describe("doctor checks on captured readings", () => {
  test("every check has a fresh and a broken case, and ids are unique", () => {
    const ids = ALL_CHECKS.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(Object.keys(CASES).sort()).toEqual([...ids].sort());
  });

  test.each(Object.entries(CASES))("%s", (id, { fresh, fixed, broken }) => {
    const before = resultOf(FRESH, id);
    expect(outcome(before), `${id} on the fresh engine: ${before.seen.join("; ")} ${before.reason ?? ""}`).toBe(fresh);
    if (fresh !== "ok" && fresh !== "skipped") {
      expect(fixed, `${id}: a check that finds something on a fresh engine needs a case where it is ok`).toBeDefined();
      expect(outcome(resultOf(patched(FRESH, fixed!), id))).toBe("ok");
    }
    const after = resultOf(patched(broken.base ?? FRESH, broken.patch), id);
    expect(after.status, `${id} broken: ${after.reason ?? after.seen.join("; ")}`).toBe("finding");
    expect(after.severity).toBe(broken.severity);
    expect(after.seen.length).toBeGreaterThan(0);
    expect(after.sources.length).toBeGreaterThan(0);
  });

  test("D-FW-10 goes by the engine's version as well as its FORWARD: 28.0.0 (before DOCKER-FORWARD) is reported, 28.0.1 is not; nftables has no FORWARD of Docker's", () => {
    const on = (patch: Patch) => outcome(resultOf(patched(FRESH, patch), "D-FW-10"));
    expect(on({ "engine.version": engineVersion("28.0.0") })).toBe("info");
    expect(on({ "engine.version": engineVersion("28.0.1") })).toBe("ok");
    expect(on({ "engine.info": info((i) => ({ ...i, FirewallBackend: { Driver: "nftables" } })) })).toBe("skipped");
  });

  test("a fresh private engine has no error or warning", () => {
    const summary = summarizeChecks(diagnose(FRESH, ALL_CHECKS), 0);
    expect(summary).toMatchObject({ errors: 0, warnings: 0 });
    expect(doctorFailed(summary, "warn")).toBe(false);
  });

  test("a Docker subnet holding the host's nameserver is an overlap too", () => {
    const result = resultOf(
      patched(FRESH, { "file.resolv.conf": text("/etc/resolv.conf", "nameserver 172.17.5.53\n") }),
      "D-ADDR-01",
    );
    expect(result).toMatchObject({ status: "finding", severity: "error" });
    expect(result.seen.join("\n")).toMatch(/contains the host's nameserver 172\.17\.5\.53/);
  });

  test("a pool route names the route and the pool; a configured pool away from it is ok", () => {
    const vpn = addRoute({ dst: "172.29.4.0/24", gateway: "10.8.0.1", dev: "tun0", flags: [] });
    const covered = resultOf(patched(FRESH, { "ip.routes": vpn }), "D-ADDR-03");
    expect(covered.seen.join("\n")).toMatch(
      /pool 172\.29\.0\.0\/16 \(size \/16\) covers route 172\.29\.4\.0\/24 via 10\.8\.0\.1 dev tun0/,
    );
    const elsewhere = resultOf(
      patched(FRESH, {
        "ip.routes": vpn,
        "file.daemon.json": setDaemonJson({ "default-address-pools": [{ base: "10.99.0.0/16", size: 24 }] }),
      }),
      "D-ADDR-03",
    );
    expect(elsewhere.status).toBe("ok");
  });

  test("on Podman, Docker's chains are not looked for: netavark keeps its own (no false 'likely cause')", () => {
    const noDockerChains = {
      "iptables.filter": () => "-P INPUT ACCEPT\n-P FORWARD ACCEPT\n-P OUTPUT ACCEPT\n",
      "iptables.nat": () => "-P PREROUTING ACCEPT\n-P INPUT ACCEPT\n-P OUTPUT ACCEPT\n-P POSTROUTING ACCEPT\n",
    };
    const podman = patched(FRESH, {
      ...noDockerChains,
      "engine.version": json<{ Components: { Name: string }[] }>((v) => ({
        ...v,
        Components: [{ Name: "Podman Engine" }, { Name: "Conmon" }],
      })),
    });
    expect(resultOf(podman, "D-FW-05")).toMatchObject({
      status: "skipped",
      reason: expect.stringMatching(/^the engine is Podman: netavark keeps its own rules/),
    });
    // The same rules under dockerd: its chains are gone, an error.
    expect(resultOf(patched(FRESH, noDockerChains), "D-FW-05")).toMatchObject({ status: "finding", severity: "error" });
  });

  test("a machine where no engine runs: what describes an engine is skipped, nothing is an error", () => {
    const gone = (source: string): Reading => ({
      source,
      unavailable: "no engine answers at unix:///var/run/docker.sock: /var/run/docker.sock does not exist",
    });
    const none = patched(FRESH, {
      "engine.info": gone("GET /info"),
      "engine.version": gone("GET /version"),
      "engine.networks": gone("GET /networks"),
      "engine.containers": gone("GET /containers/json"),
      "dockerd.cmdline": { source: "/proc/*/cmdline", unavailable: "no dockerd process found for this engine" },
      "sysctl.net.ipv4.ip_forward": () => "0\n",
      "iptables.filter": () => "-P INPUT ACCEPT\n-P FORWARD ACCEPT\n-P OUTPUT ACCEPT\n",
      "iptables.nat": () => "-P PREROUTING ACCEPT\n-P INPUT ACCEPT\n-P OUTPUT ACCEPT\n-P POSTROUTING ACCEPT\n",
    });
    const results = diagnose(none, ALL_CHECKS);
    for (const id of ["D-HOST-01", "D-FW-05", "D-DMN-02", "D-ADDR-03"]) {
      expect(results.find((r) => r.id === id)).toMatchObject({
        status: "skipped",
        reason: expect.stringMatching(/^no engine on this machine/),
      });
    }
    expect(summarizeChecks(results, 0)).toMatchObject({ errors: 0, warnings: 0 });
    // The same readings with a dockerd running: forwarding off is an error again.
    const running = patched(none, { "dockerd.cmdline": FRESH.readings["dockerd.cmdline"]! });
    expect(resultOf(running, "D-HOST-01")).toMatchObject({ status: "finding", severity: "error" });
  });

  test("ip_forward off says whether dockerd would turn it back on", () => {
    const reset = resultOf(patched(FRESH, { "sysctl.net.ipv4.ip_forward": () => "0\n" }), "D-HOST-01");
    expect(reset.seen.join("\n")).toMatch(/something reset it since/);
    const forbidden = resultOf(
      patched(FRESH, {
        "sysctl.net.ipv4.ip_forward": () => "0\n",
        "file.daemon.json": setDaemonJson({ "ip-forward": false }),
      }),
      "D-HOST-01",
    );
    expect(forbidden.seen.join("\n")).toMatch(/ip-forward: false and will not turn it on/);
  });

  test("a missing reading skips the checks that need it, never passes them", () => {
    const blind = patched(FRESH, {
      "sysctl.net.ipv4.ip_forward": { source: "cat", unavailable: "not root: the network namespace cannot be entered" },
    });
    expect(resultOf(blind, "D-HOST-01")).toMatchObject({
      status: "skipped",
      reason: "not root: the network namespace cannot be entered",
    });
  });

  test("findings explain the scenario failures they cause, most severe first", () => {
    const results = diagnose(
      patched(FRESH, {
        "sysctl.net.ipv4.ip_forward": () => "0\n",
        "file.daemon.json": setDaemonJson({ "ip-masq": false }),
      }),
      ALL_CHECKS,
    );
    expect(explanationsFor("DB-05", results).map((r) => r.id)).toEqual(["D-HOST-01", "D-DMN-07"]);
    expect(explanationsFor("UB-03", results)).toEqual([]);
  });

  test("--fail-on thresholds", () => {
    const warnOnly = summarizeChecks(diagnose(BUSY, ALL_CHECKS), 0);
    expect(warnOnly.errors).toBe(0);
    expect(warnOnly.warnings).toBeGreaterThan(0);
    expect(doctorFailed(warnOnly, "error")).toBe(false);
    expect(doctorFailed(warnOnly, "warn")).toBe(true);
    expect(doctorFailed({ ...warnOnly, errors: 1 }, "never")).toBe(false);
  });

  test("/proc/net/tcp listening sockets, IPv4 and IPv6", () => {
    expect(
      parseProcNetTcp(
        "  sl local\n   0: 0100007F:0CEA 00000000:0000 0A 0\n   1: 00000000:0949 00000000:0000 0A 0\n   2: 0100007F:1F90 0100007F:9C40 01 0\n",
        4,
      ),
    ).toEqual([
      { address: "127.0.0.1", port: 3306 },
      { address: "0.0.0.0", port: 2377 },
    ]);
    expect(
      parseProcNetTcp(
        "  sl local\n   0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A 0\n",
        6,
      ),
    ).toEqual([{ address: "::", port: 8080 }]);
  });
});

describe("where the doctor looks", () => {
  const dockerd = {
    pid: 42,
    argv: ["dockerd"],
    hosts: ["unix:///var/run/docker.sock"],
    configFile: "/etc/docker/daemon.json",
  };
  test.each([
    [
      { dockerHost: "unix:///var/run/docker.sock", engineAnswers: true, root: true, localDockerd: dockerd },
      { kind: "local", dockerdPid: 42 },
    ],
    [
      { dockerHost: "unix:///var/run/docker.sock", engineAnswers: true, root: false, localDockerd: dockerd },
      { kind: "helper", why: "not root, so dockerd's namespace cannot be entered" },
    ],
    [
      { dockerHost: "tcp://127.0.0.1:2376", engineAnswers: true, root: true },
      { kind: "helper", why: "the engine at tcp://127.0.0.1:2376 is remote" },
    ],
    [
      { dockerHost: "unix:///run/user/1000/docker.sock", engineAnswers: true, root: true },
      { kind: "helper", why: "no dockerd on this machine serves unix:///run/user/1000/docker.sock" },
    ],
    [{ dockerHost: "unix:///var/run/docker.sock", engineAnswers: false, root: true }, { kind: "local" }],
    [
      { dockerHost: "tcp://127.0.0.1:2376", engineAnswers: false, root: true },
      { kind: "blind", why: "no engine answers at tcp://127.0.0.1:2376" },
    ],
  ])("%o", (facts, plan) => {
    expect(planVantage(facts)).toEqual(plan);
  });

  test("dockerd command lines: hosts, config file, systemd socket activation", () => {
    const listing =
      "42\x1f/usr/bin/dockerd\x1f-H\x1ffd://\x1f--containerd=/run/containerd/containerd.sock\n77\x1fdockerd\x1f--host=unix:///tmp/e/docker.sock\x1f--config-file\x1f/tmp/e/daemon.json\n99\x1fgrep\x1f-ls\x1fdockerd\n";
    const processes = parseDockerdListing(listing);
    expect(processes.map((p) => [p.pid, p.hosts, p.configFile])).toEqual([
      [42, ["unix:///var/run/docker.sock"], "/etc/docker/daemon.json"],
      [77, ["unix:///tmp/e/docker.sock"], "/tmp/e/daemon.json"],
    ]);
    expect(findDockerdServing("unix:///tmp/e/docker.sock", processes)?.pid).toBe(77);
    expect(findDockerdServing("tcp://10.0.0.1:2376", processes)).toBeUndefined();
  });
});

describe("kernel checks on a stock distribution kernel, whose options are modules", () => {
  const ipvlanCheck = (modules: string) => {
    const readings = patched(FRESH, {
      "kernel.config": (t) => `${t.replace(/^CONFIG_IPVLAN=.*$/m, "")}\nCONFIG_IPVLAN=m\n`,
      "kernel.modules": { source: "/proc/modules", text: modules },
    });
    return diagnose(
      readings,
      ALL_CHECKS.filter((c) => c.id === "D-KCFG-06"),
    )[0]!;
  };

  test("an option set to m counts as there, and the check says whether its module is loaded or loads on first use", () => {
    const notLoaded = ipvlanCheck("veth 36864 0 - Live 0x0\n");
    expect(notLoaded.status).toBe("ok");
    expect(notLoaded.seen).toContain("modules, not loaded yet (the kernel loads them on first use): ipvlan");
    const loaded = ipvlanCheck("ipvlan 40960 0 - Live 0x0\nveth 36864 0 - Live 0x0\n");
    expect(loaded.seen).toContain("modules, loaded: ipvlan");
    expect(loaded.seen).not.toContain("modules, not loaded yet (the kernel loads them on first use): ipvlan");
  });
});

describe("check IDs and the scenarios they name", () => {
  test("every check is a D- ID of its own, never a scenario's; SCENARIO_IDS is exactly the scenarios, so what a check explains exists", async () => {
    const { ALL_SCENARIOS } = await import("../../scenarios/index.js");
    const { SCENARIO_IDS } = await import("../../scenarios/ids.js");
    expect(ALL_CHECKS.map((c) => c.id).filter((id) => !/^D-[A-Z0-9]+-\d{2}$/.test(id))).toEqual([]);
    expect(new Set(ALL_CHECKS.map((c) => c.id)).size).toBe(ALL_CHECKS.length);
    expect([...SCENARIO_IDS]).toEqual(ALL_SCENARIOS.map((s) => s.id));
    const scenarios = new Set<string>(SCENARIO_IDS);
    expect(ALL_CHECKS.filter((c) => scenarios.has(c.id)).map((c) => c.id)).toEqual([]);
    expect(ALL_CHECKS.flatMap((c) => c.explains ?? []).filter((id) => !scenarios.has(id))).toEqual([]);
  });
});
