import { comparableVersion, needs, versionAtLeast, type Capabilities, type Requirement } from "./capabilities.js";
import { Check, type Evidence, type Observation } from "./evidence.js";
import type { ClusterScope } from "./lab/cluster.js";
import type { LabScope } from "./lab/lab.js";
import type { LabFault } from "./lab/faults.js";
import type { EngineProfile } from "./engine-profile.js";

/** An area groups scenarios (one file in scenarios/, one JUnit testsuite): "dns", "isolation", ... */
export type Area = string;

/** What a scenario body gets: the lab, a way to check observations, and the engine's facts. */
export interface ScenarioContext {
  readonly lab: LabScope;
  readonly engine: Capabilities;
  /** Turns an observation into evidence; a claim that does not hold ends the scenario as failed. */
  check<T>(claim: string, observation: Observation<T>): Check<T>;
  /**
   * Whether the engine is at least `version`, for behaviour that changed there,
   * naming the source of the change (a release note, an issue). The answer is
   * recorded with the result: an engine matrix shows what an upgrade changes.
   */
  since(version: string, source: string): boolean;
  /**
   * Whether the engine's profile is one documented to behave otherwise here: a family (Podman) or
   * rootless mode. The expectation is then that profile's, and the result lists it as "differs
   * from Docker, as documented", with `what` and its source. What differs undocumented is still a
   * failure.
   */
  differs(profile: DifferingProfile, what: string, source: string): boolean;
  /** The swarm's nodes, for multi-host scenarios (those that require needs.multiHost). */
  cluster(): ClusterScope;
  /**
   * Ends the scenario as skipped, with the diagnosis: for behaviour the host
   * cannot give, found out by trying (the evidence so far is kept).
   */
  skip(reason: string): never;
}

/** Thrown by context.skip(): the scenario found that this host cannot show the behaviour. */
export class ScenarioSkipped extends Error {
  override readonly name = "ScenarioSkipped";
}

/** Multi-host scenarios share one swarm: they run one at a time, after the others. */
export function runsOnCluster(scenario: Scenario): boolean {
  return scenario.requires.includes(needs.multiHost);
}

/** A version boundary a scenario's expectations depend on, and whether the engine is past it. */
export interface VersionKey {
  readonly version: string;
  readonly source: string;
  readonly applies: boolean;
}

/** A documented difference of an engine family from Docker that a scenario's expectation followed. */
/** A profile documented to differ from rootful Docker: an engine family, or rootless mode (any family). */
export type DifferingProfile = Exclude<EngineProfile["family"], "docker"> | "rootless";

export interface DocumentedDifference {
  /** The profile that differs: "podman", "rootless". */
  readonly family: string;
  readonly what: string;
  readonly source: string;
}

/** One documented behaviour, as code. */
export interface Scenario {
  readonly id: string;
  readonly title: string;
  readonly area: Area;
  /** The documentation section the scenario checks (and, where behaviour moved, the release note). */
  readonly doc: string;
  readonly requires: readonly Requirement[];
  readonly tags: readonly string[];
  /** Runs alone, with no other scenario on the engine (for behaviour that shared state would disturb). */
  readonly exclusive?: boolean;
  /**
   * The daemon.json the behaviour needs. Such a scenario never runs on an engine
   * configured otherwise: `docknet run` starts a private engine with it.
   */
  readonly daemon?: Readonly<Record<string, unknown>>;
  /**
   * Changes the engine itself in its body (restarts dockerd, makes it a swarm manager): it gets
   * a private engine of its own, as a daemon configuration does, never one that other scenarios
   * (or a shared topology) are on.
   */
  readonly ownEngine?: boolean;
  /**
   * The broken setup that must make this scenario fail: a verdict that cannot fail is worth
   * nothing. A lab fault (harness/lab/faults.ts), or a daemon.json that breaks the behaviour.
   * The project's tests run every scenario on its own (test/integration/broken-setups.test.ts).
   */
  readonly brokenBy: BrokenSetup;
  run(context: ScenarioContext): Promise<void>;
}

export type BrokenSetup = LabFault | { readonly daemonConfig: Readonly<Record<string, unknown>> };

export type ScenarioDefinition = Omit<Scenario, "requires" | "tags"> & {
  readonly requires?: readonly Requirement[];
  readonly tags?: readonly string[];
};

export function scenario(definition: ScenarioDefinition): Scenario {
  return { requires: [], tags: [], ...definition };
}

/** Builds the context for one run of a scenario, collecting its evidence. */
export function scenarioContext(
  lab: LabScope,
  engine: Capabilities,
  evidence: Evidence[],
  versionKeys: VersionKey[] = [],
  cluster?: ClusterScope,
  differences: DocumentedDifference[] = [],
): ScenarioContext {
  return {
    lab,
    cluster() {
      if (!cluster) throw new Error("this run has no multi-host lab (declare needs.multiHost)");
      return cluster;
    },
    skip(reason) {
      throw new ScenarioSkipped(reason);
    },
    engine,
    check: (claim, observation) => new Check(claim, observation, (e) => evidence.push(e)),
    since(version, source) {
      const applies = versionAtLeast(comparableVersion(engine), version);
      if (!versionKeys.some((k) => k.version === version && k.source === source))
        versionKeys.push({ version, source, applies });
      return applies;
    },
    differs(family, what, source) {
      const applies = family === "rootless" ? engine.profile.mode === "rootless" : engine.profile.family === family;
      if (applies && !differences.some((d) => d.what === what)) differences.push({ family, what, source });
      return applies;
    },
  };
}
