import type { Observation } from "../evidence.js";
import type { OutsideLink } from "../engine/outside-host.js";
import { removeOutsideLink } from "../engine/outside-host.js";
import type { ScopeWorld } from "./faults.js";
import type { NetnsRef } from "../engine/netns.js";
import type { LabNetwork } from "./lab-types.js";
import type { NetworkSpec } from "./network-spec.js";
import type { Probe } from "./probe.js";
import type { ProbeBuilder } from "./probe-builder.js";
import type { UndoStack } from "./undo-stack.js";

/** The run's outside host and links (lab.ts's Lab has these). */
export interface OutsidePlaces {
  readonly engineHostNetns: NetnsRef | undefined;
  /** The interface the user named for macvlan networks (`--macvlan-parent`). */
  readonly macvlanParent: string | undefined;
  outside(): Probe | undefined;
  outsideLink(): Promise<OutsideLink>;
  deadEndLink(): Promise<Pick<OutsideLink, "parent">>;
  /** Sends the outside host's TCP to destination:port over `link` to `via` (addDetour); returns its undoing and the route now taken. */
  detour(
    link: OutsideLink,
    destination: string,
    port: number,
    via: string,
  ): Promise<{ undo: () => Promise<void>; device: Observation<string> }>;
  /** Narrows a link's path (narrowOutsideLink); the MTU its engine-host end then has. */
  narrowLink(link: OutsideLink, mtu: number): Promise<Observation<number>>;
  /** Holds the named parent for one scenario; returns the release. */
  holdNamedParent(): Promise<() => void>;
}

/** What the outside world needs of the scope it belongs to: its networks and probes. */
export interface OutsideWorldScope {
  network(short: string, spec?: NetworkSpec): Promise<LabNetwork>;
  probe(short: string): ProbeBuilder;
}

/**
 * The world beyond the engine's host, as one scenario sees it
 * (`lab.outside`): the outside host, the links (LANs) between it and the
 * engine's host, and the macvlan or ipvlan networks on them (requires
 * needs.outsideHost, or a parent the user named). Links are removed at
 * teardown, after the networks on them.
 */
export class OutsideWorld {
  constructor(
    private readonly lab: OutsidePlaces,
    private readonly scope: OutsideWorldScope,
    private readonly world: () => ScopeWorld,
    private readonly undo: UndoStack,
  ) {}

  /** The outside host, for requests from beyond the engine's host (requires needs.outsideHost). */
  host(): Probe {
    const outside = this.lab.outside();
    if (!outside) throw new Error("this engine has no outside host (declare needs.outsideHost)");
    return outside;
  }

  /**
   * A LAN between the engine's host and the outside host: its interface on the
   * engine's host is a parent for macvlan networks, and the outside host sits
   * on it as a neighbour would (requires needs.outsideHost).
   */
  async link(): Promise<OutsideLink> {
    const link = await this.lab.outsideLink();
    this.removeAtTeardown(link);
    if (this.world().lanParent === "lan") return link;
    const wrong = await this.lab.deadEndLink();
    this.removeAtTeardown(wrong);
    return { ...link, parent: wrong.parent };
  }

  /**
   * From now on the outside host sends TCP to `destination`:`port` (an address of the engine's
   * host on another interface) over `link`, to the engine host's address `via` on it: as a machine
   * on a second network of the host would. Only that port's traffic, so other scenarios keep their
   * way; undone at teardown. The observation is the interface the outside host's route then takes.
   */
  async detour(link: OutsideLink, destination: string, port: number, via: string): Promise<Observation<string>> {
    const { undo, device } = await this.lab.detour(link, destination, port, via);
    this.undo.push("after-engine-objects", `ip rule del (the detour to ${destination}:${port})`, undo);
    return device;
  }

  /**
   * A fresh link whose path carries packets of `mtu` bytes at most and says nothing when it drops
   * a larger one (an MTU black hole: moby#22028). Returns the MTU the engine host's end now has.
   */
  async narrowLink(mtu: number): Promise<{ link: OutsideLink; hostEndMtu: Observation<number> }> {
    const link = await this.link();
    return { link, hostEndMtu: await this.lab.narrowLink(link, mtu) };
  }

  /**
   * A macvlan or ipvlan network on a fresh outside link: the link's subnet, the
   * outside host as its gateway (the LAN's router), the link as parent.
   */
  async lan(
    short: string,
    driver: "macvlan" | "ipvlan",
    options: Record<string, string> = {},
  ): Promise<{ link: OutsideLink; network: LabNetwork }> {
    const link = await this.link();
    const network = await this.scope.network(short, {
      driver,
      subnet: link.subnet,
      gateway: link.outsideAddress,
      options: { parent: link.parent, ...options },
    });
    return { link, network };
  }

  /**
   * A macvlan network on the parent the run uses: the interface named with
   * --macvlan-parent (one scenario at a time), or else a fresh outside link.
   * On a named parent the subnet is docknet's own 10.216.0.0/24, and docknet
   * addresses nothing on that LAN but its own containers.
   */
  async parentNetwork(short: string): Promise<{ parent: string; subnet: string; network: LabNetwork }> {
    const named = this.lab.macvlanParent;
    if (!named) {
      const { link, network } = await this.lan(short, "macvlan");
      return { parent: link.parent, subnet: link.subnet, network };
    }
    const release = await this.lab.holdNamedParent();
    this.undo.push("after-engine-objects", `release --macvlan-parent ${named}`, release);
    const subnet = "10.216.0.0/24"; // docknet's own links start at 10.216.1.0/24
    return {
      parent: named,
      subnet,
      network: await this.scope.network(short, { driver: "macvlan", subnet, options: { parent: named } }),
    };
  }

  /**
   * Someone else on a parent network's LAN, as another machine there would be:
   * the outside host on docknet's own link; on a named parent, a second
   * container of the network (docknet sends nothing to the user's LAN).
   */
  async neighbour(network: LabNetwork): Promise<Probe> {
    return this.lab.macvlanParent ? this.scope.probe("neighbour").on(network).start() : this.host();
  }

  /** The outside host's neighbour table on a link: which MAC it saw for each address. */
  async neighbours(link: OutsideLink): Promise<Observation<{ address: string; mac: string }[]>> {
    const out = await this.host().exec(["ip", "neigh", "show", "dev", link.outsideInterface]);
    const entries = out.stdout
      .split("\n")
      .map((line) => /^(\S+)\s.*lladdr\s+([0-9a-f:]{17})/.exec(line.trim()))
      .flatMap((m) => (m ? [{ address: m[1]!, mac: m[2]! }] : []));
    return { value: entries, how: out.how, raw: out.stdout };
  }

  private removeAtTeardown(link: Pick<OutsideLink, "parent">): void {
    const netns = this.lab.engineHostNetns!;
    this.undo.push("after-engine-objects", `remove link ${link.parent}`, () => removeOutsideLink(link, netns));
  }
}
