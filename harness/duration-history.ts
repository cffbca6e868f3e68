import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { docknetCacheDir } from "./cache-dir.js";
import type { ScenarioResult } from "./results.js";

/**
 * How long each scenario took when it last ran on an engine of this version, kept in docknet's
 * cache (durations.json), so that a run starts the longest scenarios first: as Jest orders test
 * files by their last duration, the run's wall is then no longer one long scenario started last.
 * Only an ordering hint: a missing or unreadable file means no hints, never a failure.
 */
export class DurationHistory {
  private constructor(
    private readonly file: string,
    private readonly engineVersion: string,
    private readonly all: Record<string, Record<string, number>>,
  ) {}

  static load(engineVersion: string, file = join(docknetCacheDir(), "durations.json")): DurationHistory {
    let all: Record<string, Record<string, number>> = {};
    try {
      const parsed: unknown = JSON.parse(readFileSync(file, "utf8"));
      if (parsed && typeof parsed === "object") all = parsed as Record<string, Record<string, number>>;
    } catch {
      // no history yet, or one that cannot be read: the run keeps the selection's order
    }
    return new DurationHistory(file, engineVersion, all);
  }

  /** Milliseconds per scenario ID, as last measured on this engine version. */
  hints(): ReadonlyMap<string, number> {
    const own = this.all[this.engineVersion] ?? {};
    return new Map(Object.entries(own).filter(([, ms]) => typeof ms === "number" && Number.isFinite(ms)));
  }

  /** Records the first attempt of each scenario that ran to a verdict; skipped ones say nothing of their length. */
  record(results: readonly ScenarioResult[]): void {
    const own = { ...(this.all[this.engineVersion] ?? {}) };
    for (const r of results)
      if (r.attempt === 1 && (r.status === "passed" || r.status === "failed")) own[r.id] = Math.round(r.durationMs);
    this.all[this.engineVersion] = own;
    try {
      mkdirSync(dirname(this.file), { recursive: true });
      const temporary = `${this.file}.${process.pid}`;
      writeFileSync(temporary, `${JSON.stringify(this.all)}\n`);
      renameSync(temporary, this.file);
    } catch {
      // a read-only cache costs only the ordering of the next run
    }
  }
}
