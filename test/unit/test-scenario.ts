import { scenario as defineScenario, type Scenario, type ScenarioDefinition } from "../../harness/scenario.js";

/** A scenario for the runner's and the selection's unit tests, which never break a setup. */
export function scenario(definition: Omit<ScenarioDefinition, "brokenBy">): Scenario {
  return defineScenario({ brokenBy: "servers-down", ...definition });
}
