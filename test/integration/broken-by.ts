import type { BrokenSetup } from "../../harness/scenario.js";
import { ALL_SCENARIOS } from "../../scenarios/index.js";

/**
 * For every scenario, the deliberately broken setup it must notice, from its
 * own record (`brokenBy` in scenarios/). The same scenarios pass on a healthy
 * engine (conformance.test.ts); on their broken setup each one must fail,
 * with evidence that names what it observed. Faults that need a differently
 * configured daemon are proven through the CLI (cli.test.ts).
 */
export const BROKEN_BY: Readonly<Record<string, BrokenSetup>> = Object.fromEntries(
  ALL_SCENARIOS.map((s) => [s.id, s.brokenBy]),
);
