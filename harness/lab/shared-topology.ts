import type Docker from "dockerode";
import { abandonOnCancel, detached } from "../cancellation.js";
import type { Evidence } from "../evidence.js";
import type { LabFault } from "./faults.js";
import type { LabNetwork } from "./lab-types.js";
import { Probe } from "./probe.js";

/**
 * Shared topologies, as `cilium connectivity test` deploys its clients and echo servers once and
 * runs many tests against them: scenarios that only read (reachability, DNS, resolv.conf, routes)
 * observe one set of containers and networks built once per run, instead of starting their own.
 * They may attach containers of their own to a shared network (their teardown removes them), but
 * never change the topology's containers or its networks' settings. A scenario that changes state
 * (restart, firewall, the topology's own endpoints) keeps a scope of its own.
 *
 * Verdicts stay independent: a topology is fingerprinted when built and again after each scenario
 * that used it; a scenario that changed it fails saying what changed, and the next scenario gets a
 * topology built afresh.
 */

/** What a topology holds: named containers and networks. */
export type TopologyMembers = Readonly<Record<string, Probe | LabNetwork>>;

/** A topology several scenarios observe: a name, and how to build it with a lab scope of its own. */
export interface Topology<Scope, T extends TopologyMembers> {
  readonly name: string;
  build(scope: Scope): Promise<T>;
}

/** Declares a shared topology (scenarios/topologies.ts). */
export function topology<Scope, T extends TopologyMembers>(
  name: string,
  build: (scope: Scope) => Promise<T>,
): Topology<Scope, T> {
  return { name, build };
}

/** One member's state as the engine reports it: what a read-only scenario must leave as it was. */
type Fingerprint = Readonly<Record<string, Record<string, unknown>>>;

interface Built {
  readonly name: string;
  readonly scopeId: string;
  readonly members: Promise<TopologyMembers>;
  readonly fingerprint: Promise<Fingerprint>;
}

/** A scenario's use of a topology, to check afterwards. */
export interface TopologyUse {
  readonly built: Built;
}

interface TearsDown {
  tearDown(): Promise<void>;
}

/**
 * The run's shared topologies on one engine. A topology is built once per set of faults the asking
 * scenario runs under (a broken setup builds its own, broken alike), outside any scenario's
 * cancellation: a scenario cut short while it waits does not cut the build short for the others.
 */
export class SharedTopologies<Scope extends TearsDown> {
  private readonly current = new Map<string, Built>();
  private readonly scopes: { scope: Scope; members: Promise<unknown> }[] = [];
  private builds = 0;

  constructor(
    private readonly docker: Docker,
    /** A lab scope of the topology's own (its label and names), under the asking scenario's faults. */
    private readonly openScope: (scopeId: string, faults: ReadonlySet<LabFault>) => Scope,
  ) {}

  /** The topology's members, built now or earlier; and the use to check once the scenario is done. */
  async use<T extends TopologyMembers>(
    topology: Topology<Scope, T>,
    faults: ReadonlySet<LabFault>,
  ): Promise<{ members: T; use: TopologyUse }> {
    const key = [topology.name, ...[...faults].sort()].join("\n");
    let built = this.current.get(key);
    if (!built) {
      this.builds++;
      const scopeId = `shared-${slug(topology.name)}-${this.builds}`;
      const scope = this.openScope(scopeId, faults);
      const members = detached(() => topology.build(scope));
      this.scopes.push({ scope, members });
      const fingerprint = members.then((m) => fingerprintOf(this.docker, m));
      // A build that failed fails every scenario that waits for it; the fingerprint's own rejection is that same failure.
      fingerprint.catch(() => undefined);
      built = { name: topology.name, scopeId, members, fingerprint };
      this.current.set(key, built);
    }
    const ready = built;
    const members = (await abandonOnCancel(() => ready.members)) as T;
    await abandonOnCancel(() => ready.fingerprint);
    return { members, use: { built: ready } };
  }

  /**
   * What changed in the topologies a scenario used, as failed evidence (none when nothing did).
   * A changed topology is set aside: later scenarios get one built afresh.
   */
  async changes(uses: readonly TopologyUse[]): Promise<Evidence[]> {
    const evidence: Evidence[] = [];
    for (const built of new Set(uses.map((u) => u.built))) {
      const before = await built.fingerprint.catch(() => undefined);
      if (!before) continue;
      const members = await built.members;
      const after = await fingerprintOf(this.docker, members);
      const changed = differences(before, after);
      if (!changed.length) continue;
      // Set aside: never handed out again.
      for (const [key, value] of this.current) if (value === built) this.current.delete(key);
      evidence.push({
        claim: `the shared topology "${built.name}" is as it was built (scenarios that share it only read)`,
        expected: "unchanged",
        observed: changed.join("; "),
        how: `docker inspect ${Object.values(members)
          .map((m) => m.name)
          .join(" ")}`,
        ok: false,
      });
    }
    return evidence;
  }

  /** Waits for builds under way (what they make must be found), then tears every topology down. */
  async tearDown(): Promise<void> {
    await Promise.allSettled(this.scopes.map((s) => s.members));
    const problems: string[] = [];
    for (const { scope } of this.scopes) await scope.tearDown().catch((e: unknown) => problems.push(String(e)));
    this.current.clear();
    if (problems.length) throw new Error(problems.join("; "));
  }

  /** The label values of the topologies a scenario used (its failure bundle shows them too). */
  static scopeIds(uses: readonly TopologyUse[]): string[] {
    return [...new Set(uses.map((u) => u.built.scopeId))];
  }
}

function slug(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");
}

async function fingerprintOf(docker: Docker, members: TopologyMembers): Promise<Fingerprint> {
  const entries = await Promise.all(
    Object.entries(members).map(async ([key, member]): Promise<[string, Record<string, unknown>]> => {
      if (member instanceof Probe) {
        const c = await docker
          .getContainer(member.id)
          .inspect()
          .catch(() => undefined);
        if (!c) return [key, { exists: false }];
        const networks = Object.entries(c.NetworkSettings.Networks ?? {})
          .map(([name, n]) => `${name} ${n.IPAddress || "-"} ${n.GlobalIPv6Address || "-"} ${n.MacAddress || "-"}`)
          .sort();
        return [key, { exists: true, running: c.State.Running, startedAt: c.State.StartedAt, networks }];
      }
      // Its members are not part of it: a scenario may attach containers of its own, which its teardown removes.
      const n = (await docker
        .getNetwork(member.id)
        .inspect()
        .catch(() => undefined)) as Docker.NetworkInspectInfo | undefined;
      if (!n) return [key, { exists: false }];
      return [key, { exists: true, internal: n.Internal, options: n.Options ?? {}, ipam: n.IPAM?.Config ?? [] }];
    }),
  );
  return Object.fromEntries(entries);
}

/** "client.networks: [bridge …] → []", one per field that changed. */
function differences(before: Fingerprint, after: Fingerprint): string[] {
  const changed: string[] = [];
  for (const [key, fields] of Object.entries(before)) {
    for (const [field, value] of Object.entries(fields)) {
      const now = after[key]?.[field];
      if (JSON.stringify(now) !== JSON.stringify(value))
        changed.push(`${key}.${field}: ${JSON.stringify(value)} → ${JSON.stringify(now)}`);
    }
  }
  return changed;
}
