import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { builtProgram } from "./built-program.js";
import { nodeCommand } from "./node-command.js";
import type { RunReport } from "./results.js";

const CLI = builtProgram("cli.js");

export interface ChildRun {
  readonly report?: RunReport;
  readonly code: number;
  /** The child's last line on stderr: why it ended, when there is no report. */
  readonly lastLine: string;
}

/**
 * Runs `docknet run ARGS --json FILE` in a process of its own and reads its
 * report. testcontainers serves one engine per process, so each column of a
 * matrix gets a child (the engines of daemon.json scenarios go to lanes: engine-lanes.ts).
 * Aborting the signal sends the child SIGTERM; it then cleans up as a user's
 * Ctrl-C would.
 */
export async function runChild(
  args: readonly string[],
  options: { onLine?: (line: string) => void; signal?: AbortSignal } = {},
): Promise<ChildRun> {
  const dir = mkdtempSync(join(tmpdir(), "docknet-child-"));
  const json = join(dir, "report.json");
  try {
    const [node, ...nodeArgs] = nodeCommand();
    const child = spawn(node!, [...nodeArgs, CLI, "run", ...args, "--json", json, "--no-color"], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    const stop = () => child.kill("SIGTERM");
    options.signal?.addEventListener("abort", stop);
    let tail = "";
    let lastLine = "";
    child.stderr.on("data", (chunk: Buffer) => {
      const lines = (tail + chunk.toString()).split("\n");
      tail = lines.pop() ?? "";
      for (const line of lines) {
        if (line.trim()) lastLine = line.replace(/^docknet: /, "");
        options.onLine?.(line);
      }
    });
    const code = await new Promise<number>((resolve) => child.on("exit", (c) => resolve(c ?? 1)));
    options.signal?.removeEventListener("abort", stop);
    try {
      return { report: JSON.parse(readFileSync(json, "utf8")) as RunReport, code, lastLine };
    } catch {
      return { code, lastLine };
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
