import { createColors } from "picocolors";
import type { RunEvent } from "../harness/runner.js";
import type { RunReport, ScenarioResult } from "../harness/results.js";
import { differenceLines, evidenceText, explanationText, skipLines } from "./result-text.js";

type Colors = ReturnType<typeof createColors>;

export interface ConsoleOptions {
  readonly stream: NodeJS.WriteStream;
  readonly color?: boolean;
  readonly total: number;
}

/** Colour only where a person reads: a TTY, no NO_COLOR, FORCE_COLOR respected. */
export function wantsColor(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): boolean {
  if ("NO_COLOR" in env) return false;
  if (env.FORCE_COLOR !== undefined) return env.FORCE_COLOR !== "0";
  return Boolean(stream.isTTY) && env.TERM !== "dumb";
}

const MARK: Record<ScenarioResult["status"], (c: Colors) => string> = {
  passed: (c) => c.green("PASS"),
  failed: (c) => c.red("FAIL"),
  error: (c) => c.red("ERR "),
  skipped: (c) => c.yellow("SKIP"),
};

/**
 * Live progress on a TTY (one rewritten status line), plain lines otherwise;
 * then failures with their evidence and a one-line summary. Writes to stderr:
 * stdout is kept for data (--json -).
 */
export class ConsoleReporter {
  private readonly colors: Colors;
  private readonly running = new Set<string>();
  private done = 0;
  /** Skip reasons already printed, with the scenario that printed each: a repeated reason points back instead of repeating. */
  private readonly reasonsSeen = new Map<string, string>();

  constructor(private readonly options: ConsoleOptions) {
    this.colors = createColors(options.color ?? wantsColor(options.stream));
  }

  private get live(): boolean {
    return Boolean(this.options.stream.isTTY) && !process.env.CI;
  }

  onEvent = (event: RunEvent): void => {
    if (event.type === "started") {
      this.running.add(event.scenario.id);
    } else {
      this.running.delete(event.result.id);
      this.done++;
      this.clearStatus();
      const r = event.result;
      const extra = r.status === "skipped" ? this.skipReason(r) : r.status !== "passed" ? ` — ${r.reason}` : "";
      this.write(
        `${MARK[r.status](this.colors)} ${r.id} ${r.title} ${this.colors.dim(`(${seconds(r.durationMs)})`)}${extra}\n`,
      );
      if (r.teardown)
        this.write(this.colors.yellow(`  teardown left something behind: ${r.teardown} (docknet clean removes it)\n`));
    }
    if (this.live && this.running.size > 0) {
      this.options.stream.write(
        this.colors.dim(`[${this.done}/${this.options.total}] running ${[...this.running].join(", ")}`),
      );
    }
  };

  private skipReason(r: ScenarioResult): string {
    const reason = r.reason ?? "";
    const first = this.reasonsSeen.get(reason);
    if (first !== undefined) return this.colors.dim(` — as ${first}`);
    this.reasonsSeen.set(reason, r.id);
    return ` — ${reason}`;
  }

  /** Skips grouped by reason, failures with evidence, then the summary line. */
  finish(report: RunReport): void {
    this.clearStatus();
    const c = this.colors;
    const skips = skipLines(report.results);
    if (skips.length) this.write(`\n${c.yellow("Skipped, by reason:")}\n${skips.join("\n")}\n`);
    const differences = differenceLines(report.results);
    if (differences.length) this.write(`\nDiffers from Docker, as documented:\n${differences.join("\n")}\n`);
    for (const r of report.results.filter((x) => x.status === "failed" || x.status === "error")) {
      this.write(`\n${c.bold(c.red(`${r.id} ${r.title}`))}\n  ${r.reason}\n  doc: ${r.doc}\n`);
      if (r.evidence.length) this.write(`${evidenceText(r.evidence).replace(/^/gm, "  ")}\n`);
      const causes = report.explanations?.[r.id] ?? [];
      if (causes.length) this.write(`${c.yellow(explanationText(causes).replace(/^/gm, "  "))}\n`);
    }
    this.write(`\n${summaryLine(report)}\n`);
  }

  private clearStatus(): void {
    if (this.live) this.options.stream.write("\r\x1b[2K");
  }

  private write(text: string): void {
    this.options.stream.write(text);
  }
}

/** "41/44 passed, 1 failed, 2 skipped in 38.2s" */
export function summaryLine(report: Pick<RunReport, "summary">): string {
  const { total, passed, failed, skipped, errors, durationMs } = report.summary;
  const parts = [`${passed}/${total} passed`, `${failed} failed`];
  if (errors) parts.push(`${errors} broken`);
  parts.push(`${skipped} skipped`);
  return `${parts.join(", ")} in ${(durationMs / 1000).toFixed(1)}s`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}
