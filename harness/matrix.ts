import { runChild } from "./child-run.js";
import { parseProfileChoice, profileRunArgs } from "./profile-choice.js";
import type { RunReport, Status } from "./results.js";

/** One engine of a matrix: the version asked for, and what its run gave (or why there was none). */
export interface MatrixEngine {
  readonly spec: string;
  readonly report?: RunReport;
  /** The run could not happen on this engine (it would not fetch or start). */
  readonly problem?: string;
}

export interface MatrixRow {
  readonly id: string;
  readonly title: string;
  /** The verdict per engine spec; "absent" when that engine did not run the scenario. */
  readonly cells: Readonly<Record<string, Status | "absent">>;
  readonly differs: boolean;
  /** Version boundaries between the engines: documented behaviour that an upgrade changes. */
  readonly changes: readonly MatrixChange[];
}

export interface MatrixChange {
  readonly version: string;
  readonly source: string;
  /** Engines at or past the boundary, and before it. */
  readonly on: readonly string[];
  readonly off: readonly string[];
}

export interface MatrixReport {
  readonly engines: readonly MatrixEngine[];
  /** Scenarios whose verdict differs between engines come first: what an upgrade changes. */
  readonly rows: readonly MatrixRow[];
}

/** The worst verdict of a scenario's attempts (with --repeat). */
function verdictOf(report: RunReport, id: string): Status | "absent" {
  const statuses = report.results.filter((r) => r.id === id).map((r) => r.status);
  for (const worst of ["error", "failed", "skipped", "passed"] as const) if (statuses.includes(worst)) return worst;
  return "absent";
}

/** Version boundaries that split the engines: behaviour the scenario expects differently on each side. */
function boundariesCrossed(engines: readonly MatrixEngine[], id: string): MatrixChange[] {
  const seen = new Map<string, { version: string; source: string; on: string[]; off: string[] }>();
  for (const e of engines) {
    const keys = e.report?.results.find((r) => r.id === id)?.versionKeys ?? [];
    for (const k of keys) {
      const entry = seen.get(`${k.version} ${k.source}`) ?? { version: k.version, source: k.source, on: [], off: [] };
      (k.applies ? entry.on : entry.off).push(e.spec);
      seen.set(`${k.version} ${k.source}`, entry);
    }
  }
  return [...seen.values()].filter((c) => c.on.length > 0 && c.off.length > 0);
}

export function buildMatrix(engines: readonly MatrixEngine[]): MatrixReport {
  const titles = new Map<string, string>();
  for (const e of engines) for (const r of e.report?.results ?? []) titles.set(r.id, r.title);
  const rows = [...titles].map(([id, title]) => {
    const cells = Object.fromEntries(
      engines.map((e) => [e.spec, e.report ? verdictOf(e.report, id) : ("absent" as const)]),
    );
    return {
      id,
      title,
      cells,
      differs: new Set(Object.values(cells)).size > 1,
      changes: boundariesCrossed(engines, id),
    };
  });
  // Stable: differing rows first, each group in the order the scenarios ran.
  return { engines, rows: [...rows.filter((r) => r.differs), ...rows.filter((r) => !r.differs)] };
}

export function matrixFailed(matrix: MatrixReport, strict: boolean): boolean {
  return matrix.engines.some(
    (e) =>
      e.problem !== undefined ||
      e.report!.summary.failed + e.report!.summary.errors > 0 ||
      (strict && e.report!.summary.skipped > 0),
  );
}

/**
 * Runs the same selection on each engine profile (a version of dockerd, or Podman), one after
 * another, each in a `docknet run --engine-version V` (or `--engine podman`) of its own
 * (testcontainers serves one engine per process). Each child's progress lines are passed on, prefixed.
 */
export async function runMatrix(options: {
  readonly specs: readonly string[];
  /** `docknet run` arguments for the selection and settings, without --engine-version, --json or --junit. */
  readonly runArgs: readonly string[];
  readonly onLine: (spec: string, line: string) => void;
  readonly signal?: AbortSignal;
}): Promise<MatrixReport> {
  const engines: MatrixEngine[] = [];
  for (const spec of options.specs) {
    if (options.signal?.aborted) break;
    const engineArgs = profileRunArgs(parseProfileChoice(spec));
    const run = await runChild([...options.runArgs, ...engineArgs], {
      onLine: (line) => options.onLine(spec, line),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    engines.push(
      run.report
        ? { spec, report: run.report }
        : { spec, problem: `docknet run ${engineArgs.join(" ")} exited ${run.code}: ${run.lastLine}` },
    );
  }
  return buildMatrix(engines);
}
