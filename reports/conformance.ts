import { stringify } from "yaml";
import type { RunReport, ScenarioResult } from "../harness/results.js";
import { JSON_SCHEMA_VERSION } from "./json.js";
import { skipsByReason } from "./result-text.js";

/**
 * A conformance report per engine profile, in the shape conformance users already read
 * (Kubernetes Gateway API's ConformanceReport: the implementation, per-profile results with
 * statistics, supported and unsupported features, and one verdict). Here the "profiles" of that
 * report are docknet's areas, the implementation is the engine's profile, and the unsupported
 * features are the skip reasons: what this set-up lacks, named. Reads results only.
 */

export type ConformanceVerdict = "conformant" | "conformant with documented differences" | "not conformant";

export interface AreaResult {
  readonly name: string;
  /** Gateway API's words: success (every scenario passed), partial (some skipped), failure (one failed or broke). */
  readonly result: "success" | "partial" | "failure";
  readonly statistics: { readonly passed: number; readonly failed: number; readonly skipped: number };
  readonly failedScenarios: readonly string[];
  readonly skippedScenarios: readonly string[];
}

export interface ConformanceReport {
  readonly schemaVersion: number;
  readonly kind: "docknet.conformance";
  readonly date: string;
  readonly docknetVersion: string;
  readonly runId: string;
  readonly implementation: {
    readonly profile: string;
    readonly family: string;
    readonly version: string;
    /** The Docker release whose API the engine serves, when it is not Docker's own (Podman). */
    readonly servesDockerApiOf?: string;
    readonly mode: string;
    readonly firewall: string;
    readonly apiVersion: string;
    readonly kernel: string;
  };
  readonly verdict: ConformanceVerdict;
  /** Why the verdict is what it is, in one line. */
  readonly because: string;
  readonly statistics: {
    readonly passed: number;
    readonly failed: number;
    readonly skipped: number;
    readonly errors: number;
  };
  readonly areas: readonly AreaResult[];
  /** Areas where at least one scenario ran and every one that ran passed. */
  readonly supportedFeatures: readonly string[];
  /** What this set-up lacks, as the skips say it, with the scenarios it kept from running. */
  readonly unsupportedFeatures: readonly { readonly reason: string; readonly scenarios: readonly string[] }[];
  readonly documentedDifferences: readonly {
    readonly scenario: string;
    readonly family: string;
    readonly what: string;
    readonly source: string;
  }[];
  readonly failures: readonly {
    readonly scenario: string;
    readonly title: string;
    readonly reason: string;
    readonly doc: string;
  }[];
}

const failedOrBroke = (r: ScenarioResult) => r.status === "failed" || r.status === "error";

/** The worst verdict of a scenario's attempts (with --repeat), one result per scenario. */
function perScenario(results: readonly ScenarioResult[]): ScenarioResult[] {
  const rank = { error: 0, failed: 1, skipped: 2, passed: 3 } as const;
  const worst = new Map<string, ScenarioResult>();
  for (const r of results) {
    const seen = worst.get(r.id);
    if (!seen || rank[r.status] < rank[seen.status]) worst.set(r.id, r);
  }
  return [...worst.values()];
}

function areaResults(results: readonly ScenarioResult[]): AreaResult[] {
  const areas = [...new Set(results.map((r) => r.area))];
  return areas.map((name) => {
    const mine = results.filter((r) => r.area === name);
    const failed = mine.filter(failedOrBroke).map((r) => r.id);
    const skipped = mine.filter((r) => r.status === "skipped").map((r) => r.id);
    const passed = mine.filter((r) => r.status === "passed").length;
    return {
      name,
      result: failed.length ? "failure" : skipped.length ? "partial" : "success",
      statistics: { passed, failed: failed.length, skipped: skipped.length },
      failedScenarios: failed,
      skippedScenarios: skipped,
    };
  });
}

export function conformanceVerdict(report: RunReport): { verdict: ConformanceVerdict; because: string } {
  const results = perScenario(report.results);
  const failed = results.filter(failedOrBroke).map((r) => r.id);
  if (report.engineLost) return { verdict: "not conformant", because: `the run did not finish: ${report.engineLost}` };
  if (failed.length)
    return { verdict: "not conformant", because: `${failed.length} scenario(s) failed or broke: ${failed.join(", ")}` };
  const skipped = results.filter((r) => r.status === "skipped").map((r) => r.id);
  if (report.strict && skipped.length)
    return { verdict: "not conformant", because: `--strict, and ${skipped.length} scenario(s) skipped` };
  const differing = results.filter((r) => (r.documentedDifferences ?? []).length).map((r) => r.id);
  if (differing.length)
    return {
      verdict: "conformant with documented differences",
      because: `every scenario that ran passed; ${differing.join(", ")} expected what the engine's own documentation says`,
    };
  return { verdict: "conformant", because: "every scenario that ran passed, as Docker documents it" };
}

export function conformanceReport(report: RunReport): ConformanceReport {
  const results = perScenario(report.results);
  const areas = areaResults(results);
  const { engine } = report;
  return {
    schemaVersion: JSON_SCHEMA_VERSION,
    kind: "docknet.conformance",
    date: report.startedAt,
    docknetVersion: report.tool.version,
    runId: report.runId,
    implementation: {
      profile: engine.profile.description,
      family: engine.profile.family,
      version: engine.engineVersion,
      ...(engine.servesDockerApiOf ? { servesDockerApiOf: engine.servesDockerApiOf } : {}),
      mode: engine.profile.mode,
      firewall: engine.profile.firewall,
      apiVersion: engine.apiVersion,
      kernel: engine.kernel,
    },
    ...conformanceVerdict(report),
    statistics: {
      passed: results.filter((r) => r.status === "passed").length,
      failed: results.filter((r) => r.status === "failed").length,
      skipped: results.filter((r) => r.status === "skipped").length,
      errors: results.filter((r) => r.status === "error").length,
    },
    areas,
    supportedFeatures: areas.filter((a) => a.result !== "failure" && a.statistics.passed > 0).map((a) => a.name),
    unsupportedFeatures: skipsByReason(results).map(({ reason, ids }) => ({ reason, scenarios: ids })),
    documentedDifferences: results.flatMap((r) =>
      (r.documentedDifferences ?? []).map((d) => ({
        scenario: r.id,
        family: d.family,
        what: d.what,
        source: d.source,
      })),
    ),
    failures: results
      .filter(failedOrBroke)
      .map((r) => ({ scenario: r.id, title: r.title, reason: r.reason ?? "", doc: r.doc })),
  };
}

/**
 * One YAML document per run (a matrix gives one per profile), or one JSON document (an array for
 * a matrix) when the file ends in .json.
 */
export function conformanceText(reports: readonly RunReport[], format: "yaml" | "json"): string {
  const documents = reports.map(conformanceReport);
  if (format === "json") return `${JSON.stringify(documents.length === 1 ? documents[0] : documents, null, 2)}\n`;
  return documents.map((d) => stringify(d, { lineWidth: 0 })).join("---\n");
}
