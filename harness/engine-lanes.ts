import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { createInterface } from "node:readline";
import { builtProgram } from "./built-program.js";
import { nodeCommand } from "./node-command.js";
import type { Explanation, ScenarioResult } from "./results.js";

/** One engine a run starts for scenarios: its daemon.json, and which scenarios run on it. */
export interface EngineGroupPlan {
  readonly config: Readonly<Record<string, unknown>>;
  readonly scenarioIds: readonly string[];
  /** false: none of its scenarios needs the outside host, so the engine starts without one. */
  readonly outsideHost: boolean;
}

/** What a lane answers for one group. */
export interface GroupReport {
  readonly results: readonly ScenarioResult[];
  readonly containersStarted: number;
  /** The doctor's findings on the lane's engine for its group's failed scenarios. */
  readonly explanations?: Readonly<Record<string, readonly Explanation[]>>;
}

/** The lane's answers on its stdout start so; anything else there is not an answer. */
export const LANE_ANSWER = "docknet-lane-answer ";

const CLI = builtProgram("cli.js");

/**
 * A `docknet run --engine-groups` process that runs the groups it is sent,
 * one after another, each on a private engine of its own: one JSON line in on
 * its stdin per group, one answer line out on its stdout. A process (Node and
 * testcontainers loaded, about 1.5 CPU-seconds) serves many engines, and the
 * run hands each lane its next group when it is free. Aborting the signal
 * sends the process SIGTERM; it then cleans up as a user's Ctrl-C would.
 */
export class EngineLane {
  private readonly child: ChildProcessWithoutNullStreams;
  private pending: ((answer: GroupReport | { readonly failed: string }) => void) | undefined;
  private lastLine = "";
  private exitCode: number | undefined;
  private readonly exited: Promise<void>;

  constructor(runArgs: readonly string[], signal?: AbortSignal) {
    const [node, ...nodeArgs] = nodeCommand();
    this.child = spawn(node!, [...nodeArgs, CLI, "run", ...runArgs, "--engine-groups", "--no-color"], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    const stop = () => this.child.kill("SIGTERM");
    signal?.addEventListener("abort", stop);
    createInterface({ input: this.child.stderr }).on("line", (line) => {
      if (line.trim()) this.lastLine = line.replace(/^docknet: /, "");
    });
    createInterface({ input: this.child.stdout }).on("line", (line) => {
      if (line.startsWith(LANE_ANSWER)) this.answer(parseAnswer(line.slice(LANE_ANSWER.length)));
    });
    // A closed stdin is how the lane is told to finish; one that died first must not throw here.
    this.child.stdin.on("error", () => undefined);
    this.exited = new Promise((resolve) =>
      this.child.on("exit", (code) => {
        signal?.removeEventListener("abort", stop);
        this.exitCode = code ?? 1;
        this.answer({ failed: `${this.lastLine || "its process ended"} (exit ${this.exitCode})` });
        resolve();
      }),
    );
  }

  /** Whether the lane can take another group. */
  get alive(): boolean {
    return this.exitCode === undefined;
  }

  /** Runs one group on the lane: its report, or why the lane ended without one. */
  run(group: EngineGroupPlan): Promise<GroupReport | { readonly failed: string }> {
    if (!this.alive) return Promise.resolve({ failed: `the lane had ended: ${this.lastLine}` });
    return new Promise((resolve) => {
      this.pending = resolve;
      this.child.stdin.write(`${JSON.stringify(group)}\n`);
    });
  }

  /** Tells the lane there is nothing more, and waits for its process to end. */
  async end(): Promise<void> {
    this.child.stdin.end();
    await this.exited;
  }

  private answer(answer: GroupReport | { readonly failed: string }): void {
    const pending = this.pending;
    this.pending = undefined;
    pending?.(answer);
  }
}

/** A lane's answer line; one that is not JSON fails its group, saying so, instead of throwing in the run. */
export function parseAnswer(text: string): GroupReport | { readonly failed: string } {
  try {
    return JSON.parse(text) as GroupReport;
  } catch (error) {
    return { failed: `the lane's answer was not JSON (${(error as Error).message}): ${text.slice(0, 120)}` };
  }
}
