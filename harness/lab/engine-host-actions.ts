import { readFileSync, writeFileSync } from "node:fs";
import { derive, type Observation } from "../evidence.js";
import { runInNetns, type NetnsOutcome, type NetnsRef } from "../engine/netns.js";
import { parseRuleset, type Ruleset } from "../iptables-rules.js";
import type { ScopeWorld } from "./faults.js";
import type { ApiOutcome } from "./lab-types.js";
import type { UndoStack } from "./undo-stack.js";
import { sysctlPath } from "../sysctl-path.js";
import { firewallCmd } from "../engine/firewalld-host.js";
import { httpGet } from "./probe.js";

/** What a command on the engine's host printed, and how it ended. */
export interface HostCommandOutcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Where the engine's host is (lab.ts's Lab has these). */
export interface EngineHostPlaces {
  /** A private engine's network namespace: docknet's own, so scenarios may change its firewall. */
  readonly engineNetns: string | undefined;
  /** The namespace of the engine's host, where docknet can run commands. */
  readonly engineHostNetns: NetnsRef | undefined;
  /** The /etc/resolv.conf a private engine's dockerd sees (a file of its own). */
  readonly engineResolvConf: string | undefined;
  /** The D-Bus of the firewalld on the engine's host, when docknet started one there. */
  readonly firewalldBus: string | undefined;
  /** Where busybox's applets are on this machine, for commands on the engine's host. */
  outsideBinDir(): string | undefined;
}

/**
 * The engine's host, as one scenario sees it (`lab.host`): commands there,
 * its firewall, sysctls, addresses and resolv.conf. Reads need the engine's
 * host (needs.engineHost); changes are made only in a namespace that is
 * docknet's own (needs.engineNamespace), and each is undone at teardown.
 */
export class EngineHostActions {
  constructor(
    private readonly lab: EngineHostPlaces,
    private readonly world: () => ScopeWorld,
    private readonly undo: UndoStack,
  ) {}

  /** A command run on the engine's host itself (its network namespace; needs.engineHost), with busybox's applets. */
  async run(argv: string[]): Promise<Observation<HostCommandOutcome>> {
    const bin = this.lab.outsideBinDir();
    const out = await this.inEngineHost(bin ? [`${bin}/env`, `PATH=${bin}`, ...argv] : argv);
    return {
      value: { code: out.code, stdout: out.stdout, stderr: out.stderr },
      how: out.how.replace(/\S*\/env PATH=\S+ /, ""),
      raw: out.stdout + out.stderr,
    };
  }

  /** How many bytes an HTTP GET from the engine's host brought back within `seconds` (as Probe.download). */
  async download(host: string, port: number, path: string, seconds = 3): Promise<Observation<number>> {
    const get = httpGet(host, port, path, seconds, "count");
    const out = await this.run(get.argv);
    // The command as a person types it: the script quoted, not argv joined.
    const how = out.how.replace(get.argv.join(" "), get.how);
    return { ...derive(out, (o) => Number(o.stdout.trim()) || 0), how };
  }

  /** Gives an interface of the engine's host an address, as a host on that LAN would have; removed at teardown. */
  async addAddress(device: string, cidr: string): Promise<Observation<number>> {
    const added = await this.run(["ip", "addr", "add", cidr, "dev", device]);
    if (added.value.code === 0)
      this.undo.push("after-engine-objects", `ip addr del ${cidr} dev ${device}`, () =>
        this.inEngineHost(["ip", "addr", "del", cidr, "dev", device]),
      );
    return derive(added, (o) => o.code);
  }

  /** `firewall-cmd ARGS` against the firewalld on the engine's host (needs.firewalld). */
  async firewallCmd(args: readonly string[]): Promise<Observation<HostCommandOutcome>> {
    const bus = this.lab.firewalldBus;
    if (!bus) throw new Error("the engine's host runs no firewalld of docknet's (declare needs.firewalld)");
    const out = await firewallCmd(bus, args);
    return {
      value: { code: out.code, stdout: out.stdout.trim(), stderr: out.stderr.trim() },
      how: `firewall-cmd ${args.join(" ")}`,
      raw: out.stdout + out.stderr,
    };
  }

  /** The firewalld zone an interface is in (`firewall-cmd --get-zone-of-interface`), or "no zone". */
  async zoneOfInterface(name: string): Promise<Observation<string>> {
    return derive(await this.firewallCmd([`--get-zone-of-interface=${name}`]), (o) =>
      o.code === 0 && o.stdout ? o.stdout : "no zone",
    );
  }

  /** The interfaces of a firewalld zone (`firewall-cmd --zone=Z --list-interfaces`). */
  async zoneInterfaces(zone: string): Promise<Observation<string[]>> {
    return derive(await this.firewallCmd([`--zone=${zone}`, "--list-interfaces"]), (o) =>
      o.stdout.split(/\s+/).filter(Boolean),
    );
  }

  /** `firewall-cmd --reload`: firewalld drops its runtime state and loads its configuration again. */
  async reloadFirewalld(): Promise<Observation<ApiOutcome>> {
    return derive(await this.firewallCmd(["--reload"]), (o) => (o.code === 0 ? "accepted" : o.stderr || o.stdout));
  }

  /** Takes an interface out of its firewalld zone (the runtime configuration), for a broken setup. */
  async leaveFirewalldZone(name: string): Promise<void> {
    const zone = (await this.zoneOfInterface(name)).value;
    if (zone !== "no zone") await this.firewallCmd([`--zone=${zone}`, `--remove-interface=${name}`]);
  }

  /**
   * Whether an nftables table exists on the engine's host (`nft list table FAMILY NAME`):
   * "present", "absent", or why nft could not say (no nft there).
   */
  async nftTable(family: "ip" | "ip6", name: string): Promise<Observation<string>> {
    const out = await this.inEngineHost(["nft", "list", "table", family, name]);
    const text = out.stdout + out.stderr;
    const value =
      out.code === 0
        ? "present"
        : /No such file or directory|does not exist/i.test(text) && !/exec|not found/i.test(text)
          ? "absent"
          : `nft failed: ${text.trim().split("\n")[0] ?? ""}`;
    return { value, how: out.how, raw: text };
  }

  /** A table of the engine host's firewall, as `iptables -S` lists it (needs.engineHost). */
  async firewall(table: "filter" | "nat", family: "ipv4" | "ipv6" = "ipv4"): Promise<Observation<Ruleset>> {
    const out = await this.inEngineHost([family === "ipv4" ? "iptables" : "ip6tables", "-w", "5", "-t", table, "-S"]);
    return { value: parseRuleset(out.stdout), how: out.how, raw: out.stdout + out.stderr };
  }

  /**
   * Adds a rule to the engine host's firewall, as an administrator (or another
   * tool) would: inserted first, or appended. It is deleted at teardown.
   * Private engines only (needs.engineNamespace).
   */
  async addFirewallRule(
    chain: string,
    rule: string[],
    options: { append?: boolean; table?: "filter" | "nat" | "mangle" } = {},
  ): Promise<Observation<ApiOutcome>> {
    const table = options.table ?? "filter";
    const misplaced = chain === "DOCKER-USER" && this.world().userRulesInForward;
    const into = misplaced ? "FORWARD" : chain;
    const append = misplaced || (options.append === true && !this.world().appendedRulesGoFirst);
    const out = await this.inOwnNamespace(["iptables", "-w", "5", "-t", table, append ? "-A" : "-I", into, ...rule]);
    if (out.code === 0)
      this.undo.push("after-engine-objects", `iptables -t ${table} -D ${into} ${rule.join(" ")}`, () =>
        this.inOwnNamespace(["iptables", "-w", "5", "-t", table, "-D", into, ...rule]),
      );
    // The evidence shows the command asked for, not where a fault put the rule.
    const how = misplaced ? out.how.replace(` -A ${into} `, ` ${options.append ? "-A" : "-I"} ${chain} `) : out.how;
    return { value: commandOutcome(out), how };
  }

  /** Sets a filter chain's policy on the engine's host (`iptables -P`); the old one comes back at teardown. */
  async setChainPolicy(chain: string, policy: "ACCEPT" | "DROP"): Promise<Observation<ApiOutcome>> {
    const before = (await this.firewall("filter")).value.policies.get(chain);
    const out = await this.inOwnNamespace(["iptables", "-w", "5", "-P", chain, policy]);
    if (out.code === 0 && before)
      this.undo.push("after-engine-objects", `iptables -P ${chain} ${before}`, () =>
        this.inOwnNamespace(["iptables", "-w", "5", "-P", chain, before]),
      );
    return { value: commandOutcome(out), how: out.how };
  }

  /** A kernel parameter in the engine host's network namespace, e.g. net.ipv4.ip_forward (needs.engineHost). */
  async sysctl(name: string): Promise<Observation<string>> {
    const out = await this.inEngineHost(["cat", sysctlPath(name)]);
    return { value: out.stdout.trim(), how: out.how, raw: out.stderr };
  }

  /**
   * Rewrites /etc/resolv.conf as a private engine's dockerd sees it (the
   * host's resolvers, for the containers it starts from now on), as an
   * administrator editing the host's would; put back at teardown. Scenarios
   * using it run alone on the engine (exclusive).
   */
  async setResolvConf(text: string): Promise<Observation<string>> {
    const file = this.lab.engineResolvConf;
    if (!file) throw new Error("this engine's resolv.conf is not docknet's (declare needs.engineNamespace)");
    const before = readFileSync(file, "utf8");
    this.undo.push("before-engine-objects", `restore ${file}`, () => writeFileSync(file, before));
    writeFileSync(file, text);
    return {
      value: readFileSync(file, "utf8"),
      how: `the engine host's /etc/resolv.conf (${file}, bound over it in dockerd's mount namespace)`,
    };
  }

  /** Changes happen only in a namespace that is docknet's own. */
  private inOwnNamespace(argv: string[]): Promise<NetnsOutcome> {
    const netns = this.lab.engineNetns;
    if (!netns) throw new Error("this engine's namespace is not docknet's (declare needs.engineNamespace)");
    return runInNetns(netns, argv);
  }

  private inEngineHost(argv: string[]): Promise<NetnsOutcome> {
    const netns = this.lab.engineHostNetns;
    if (!netns) throw new Error("docknet cannot enter this engine's host (declare needs.engineHost)");
    return runInNetns(netns, argv);
  }
}

/** How a command that changes the engine's host went, in the terms of an API call: "accepted", or its error. */
function commandOutcome(out: NetnsOutcome): ApiOutcome {
  return out.code === 0 ? "accepted" : out.stderr.trim() || `exit ${out.code}`;
}
