import type { Capabilities, Requirement } from "./capabilities.js";
import { Check, type Evidence, type Observation } from "./evidence.js";
import type { LabScope } from "./lab/lab.js";

/** An area groups scenarios (one file in scenarios/, one JUnit testsuite): "dns", "isolation", ... */
export type Area = string;

/** What a scenario body gets: the lab, a way to check observations, and the engine's facts. */
export interface ScenarioContext {
  readonly lab: LabScope;
  readonly engine: Capabilities;
  /** Turns an observation into evidence; a claim that does not hold ends the scenario as failed. */
  check<T>(claim: string, observation: Observation<T>): Check<T>;
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
  run(context: ScenarioContext): Promise<void>;
}

export type ScenarioDefinition = Omit<Scenario, "requires" | "tags"> & {
  readonly requires?: readonly Requirement[];
  readonly tags?: readonly string[];
};

export function scenario(definition: ScenarioDefinition): Scenario {
  return { requires: [], tags: [], ...definition };
}

/** Builds the context for one run of a scenario, collecting its evidence. */
export function scenarioContext(lab: LabScope, engine: Capabilities, evidence: Evidence[]): ScenarioContext {
  return {
    lab,
    engine,
    check: (claim, observation) => new Check(claim, observation, (e) => evidence.push(e)),
  };
}
