import type { ScenarioId } from "../../scenarios/ids.js";
import type { Facts } from "./facts.js";

export type Severity = "error" | "warn" | "info";

/** What one check concluded: nothing wrong, or a finding of some severity; with what it saw. */
export type Verdict =
  | { readonly status: "ok"; readonly seen: readonly string[] }
  | {
      readonly status: "finding";
      readonly severity: Severity;
      readonly seen: readonly string[];
      readonly fix?: string;
    };

export const ok = (...seen: string[]): Verdict => ({ status: "ok", seen });

export const finding = (severity: Severity, seen: readonly string[], fix?: string): Verdict => ({
  status: "finding",
  severity,
  seen,
  ...(fix ? { fix } : {}),
});

/** A check that does not apply to this host; reported as skipped with the reason. */
export class NotApplicable extends Error {
  override readonly name = "NotApplicable";
}

/**
 * One audit check. It reads facts and returns a verdict; it never changes the
 * host. IDs are those of the host-audit catalog (shared/reference).
 */
export interface DoctorCheck {
  readonly id: string;
  readonly title: string;
  /** Why it matters, in a sentence a person diagnosing a machine understands. */
  readonly why: string;
  /** The remediation: a command or a setting. */
  readonly fix: string;
  /** Where the behaviour is documented or was reported (docs page, moby issue, CIS check). */
  readonly reference: string;
  /** Scenarios whose failure this check's finding may explain. */
  readonly explains?: readonly ScenarioId[];
  evaluate(facts: Facts): Verdict;
}

export type CheckStatus = "ok" | "finding" | "skipped" | "error";

/** A check's result: the doctor's unit, and the only thing its reporters read. */
export interface CheckResult {
  readonly id: string;
  readonly title: string;
  readonly status: CheckStatus;
  /** Set for findings. */
  readonly severity?: Severity;
  /** What was seen: the facts the verdict rests on. */
  readonly seen: readonly string[];
  /** The readings those facts came from (a command, a file, an API call). */
  readonly sources: readonly string[];
  readonly why: string;
  readonly fix: string;
  readonly reference: string;
  readonly explains: readonly string[];
  /** Why it was skipped or could not be evaluated. */
  readonly reason?: string;
}
