import type { Scenario } from "../harness/scenario.js";
import { selectScenarios } from "../harness/selection.js";
import { ALL_SCENARIOS } from "../scenarios/index.js";

/**
 * The scenarios a test file runs: all of them, or those DOCKNET_SCENARIOS
 * selects, in `docknet run`'s own words (IDs, areas, tag:NAME, /REGEX/, !ID).
 * A developer proves one scenario both ways, alone:
 *   DOCKNET_SCENARIOS=DNS-01 npx vitest run test/integration/conformance.test.ts test/integration/broken-setups.test.ts
 */
export function chosenForTest(): Scenario[] {
  const words = (process.env.DOCKNET_SCENARIOS ?? "").split(/[\s,]+/).filter(Boolean);
  const chosen = selectScenarios(ALL_SCENARIOS, words);
  if (words.length && chosen.length === 0)
    throw new Error(`DOCKNET_SCENARIOS=${process.env.DOCKNET_SCENARIOS} selects no scenario`);
  return chosen;
}
