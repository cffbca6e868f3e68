import type { Capabilities } from "./capabilities.js";
import type { Evidence } from "./evidence.js";
import type { DocumentedDifference, VersionKey } from "./scenario.js";

export type Status = "passed" | "failed" | "skipped" | "error";

/** A scenario's verdict: the only thing reporters read. */
export interface ScenarioResult {
  readonly id: string;
  readonly title: string;
  readonly area: string;
  readonly doc: string;
  readonly tags: readonly string[];
  readonly status: Status;
  readonly durationMs: number;
  /** Every check the scenario made, in order; the last one failed when status is "failed". */
  readonly evidence: readonly Evidence[];
  /** Why it failed, was skipped, or broke (a Docker error, a timeout). */
  readonly reason?: string;
  /** 1-based repetition, when run with --repeat. */
  readonly attempt: number;
  /** The version boundaries the scenario's expectations depended on, and which side this engine was on. */
  readonly versionKeys?: readonly VersionKey[];
  /** Where the engine's family is documented to differ from Docker, and the expectation followed that (Podman). */
  readonly documentedDifferences?: readonly DocumentedDifference[];
  /** What its teardown could not remove, in the engine's words (the verdict stands; docknet clean removes the rest). */
  readonly teardown?: string;
}

export interface RunSummary {
  readonly total: number;
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
  readonly errors: number;
  readonly durationMs: number;
  /** The containers the run started, on the engines it started for scenarios (daemon.json, exclusive) too: what its wall time bought. */
  readonly containersStarted?: number;
}

/** A doctor finding offered as the likely cause of a failed scenario. */
export interface Explanation {
  readonly check: string;
  readonly severity: "error" | "warn" | "info";
  readonly title: string;
  readonly seen: readonly string[];
  readonly fix: string;
}

export interface RunReport {
  readonly tool: { readonly name: "docknet"; readonly version: string };
  readonly runId: string;
  readonly startedAt: string;
  readonly engine: { readonly description: string } & Capabilities;
  readonly strict: boolean;
  readonly results: readonly ScenarioResult[];
  readonly summary: RunSummary;
  /** For failed scenarios: doctor findings on the same engine that may explain them, by scenario id. */
  readonly explanations?: Readonly<Record<string, readonly Explanation[]>>;
  /** Where docknet ran commands on the engine's host: as root here, through a helper container, or none and why. */
  readonly vantage?: string;
  /** Set when the engine died or stopped answering mid-run: the one line that says so. The run stopped there. */
  readonly engineLost?: string;
  /** Set when the run ran in docknet's kernel VM (--kernel-vm): which kernel, how it was run. */
  readonly kernelVm?: KernelVmFacts;
  /** DOCKNET_TIME_SCALE when it was above 1: every wait and timeout of the run was multiplied by it. */
  readonly timeScale?: number;
}

export interface KernelVmFacts {
  /** The Debian package: "linux-image-6.1.0-57-amd64 6.1.192-3". */
  readonly kernelPackage: string;
  /** `uname -r` in the VM. */
  readonly release: string;
  readonly accelerator: "kvm" | "tcg";
  /** From QEMU's start to the run's start in the VM. */
  readonly bootMs: number;
}

export function summarize(results: readonly ScenarioResult[], durationMs: number): RunSummary {
  const count = (status: Status) => results.filter((r) => r.status === status).length;
  return {
    total: results.length,
    passed: count("passed"),
    failed: count("failed"),
    skipped: count("skipped"),
    errors: count("error"),
    durationMs,
  };
}

/** Whether the run should exit 1: a failure or a broken scenario, or (with --strict) a skip. */
export function runFailed(report: Pick<RunReport, "summary" | "strict">): boolean {
  const { failed, errors, skipped } = report.summary;
  return failed + errors > 0 || (report.strict && skipped > 0);
}
