import { NotApplicable, type CheckResult, type DoctorCheck, type Severity } from "./check.js";
import { Facts, Unavailable } from "./facts.js";
import type { Readings } from "./readings.js";

export interface DoctorSummary {
  readonly checks: number;
  readonly ok: number;
  readonly errors: number;
  readonly warnings: number;
  readonly infos: number;
  readonly skipped: number;
  readonly durationMs: number;
}

/** What `docknet doctor` found: the only thing its reporters read. */
export interface DoctorReport {
  readonly tool: { readonly name: "docknet"; readonly version: string };
  readonly startedAt: string;
  readonly dockerHost: string;
  readonly vantage: string;
  readonly results: readonly CheckResult[];
  readonly summary: DoctorSummary;
}

/** Runs one check on the facts; a missing reading or a check that does not apply is a skip. */
export function evaluateCheck(check: DoctorCheck, facts: Facts): CheckResult {
  const base = {
    id: check.id,
    title: check.title,
    why: check.why,
    fix: check.fix,
    reference: check.reference,
    explains: check.explains ?? [],
  };
  facts.takeSources();
  try {
    const verdict = check.evaluate(facts);
    const sources = facts.takeSources();
    if (verdict.status === "ok") return { ...base, status: "ok", seen: verdict.seen, sources };
    return {
      ...base,
      status: "finding",
      severity: verdict.severity,
      seen: verdict.seen,
      sources,
      ...(verdict.fix ? { fix: verdict.fix } : {}),
    };
  } catch (error) {
    const sources = facts.takeSources();
    if (error instanceof Unavailable || error instanceof NotApplicable)
      return { ...base, status: "skipped", seen: [], sources, reason: error.message };
    return { ...base, status: "error", seen: [], sources, reason: `the check broke: ${(error as Error).message}` };
  }
}

export function diagnose(readings: Readings, checks: readonly DoctorCheck[]): CheckResult[] {
  const facts = new Facts(readings);
  return checks.map((check) => evaluateCheck(check, facts));
}

export function summarizeChecks(results: readonly CheckResult[], durationMs: number): DoctorSummary {
  const severity = (s: Severity) => results.filter((r) => r.status === "finding" && r.severity === s).length;
  return {
    checks: results.length,
    ok: results.filter((r) => r.status === "ok").length,
    errors: severity("error") + results.filter((r) => r.status === "error").length,
    warnings: severity("warn"),
    infos: severity("info"),
    skipped: results.filter((r) => r.status === "skipped").length,
    durationMs,
  };
}

export type FailOn = "error" | "warn" | "never";

/** Whether the audit fails CI at this threshold. A check that broke counts as an error. */
export function doctorFailed(summary: DoctorSummary, failOn: FailOn): boolean {
  if (failOn === "never") return false;
  return summary.errors > 0 || (failOn === "warn" && summary.warnings > 0);
}

/** The findings that may explain a failed scenario, most severe first. */
export function explanationsFor(scenarioId: string, results: readonly CheckResult[]): CheckResult[] {
  const rank: Record<Severity, number> = { error: 0, warn: 1, info: 2 };
  return results
    .filter((r) => r.status === "finding" && r.explains.includes(scenarioId))
    .sort((a, b) => rank[a.severity!] - rank[b.severity!]);
}
