import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { EngineUnavailable } from "./exit-codes.js";
import { waitFor } from "./polling.js";
import { scaled } from "./time-scale.js";

/** What a command on the machine docknet runs on printed, and how it ended. */
export interface CommandOutcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a program without a shell (arguments are never re-split or expanded),
 * with a hard timeout. A missing program is exit 127, as a shell would say.
 */
export function runCommand(
  file: string,
  args: readonly string[],
  options: { timeoutMs?: number; cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<CommandOutcome> {
  return new Promise((resolve) => {
    execFile(
      file,
      [...args],
      {
        timeout: scaled(options.timeoutMs ?? 30_000),
        killSignal: "SIGKILL",
        maxBuffer: 16 << 20,
        encoding: "utf8",
        ...(options.cwd ? { cwd: options.cwd } : {}),
        ...(options.env ? { env: { ...process.env, ...options.env } } : {}),
      },
      (error, stdout, stderr) => {
        if (!error) return resolve({ code: 0, stdout, stderr });
        const errno = (error as NodeJS.ErrnoException).code;
        if (errno === "ENOENT") return resolve({ code: 127, stdout, stderr: `${file}: not found` });
        const code = typeof errno === "number" ? errno : error.killed ? 137 : 1;
        resolve({ code, stdout, stderr: stderr || error.message });
      },
    );
  });
}

/** Runs a command that setting up an engine needs; its failure makes the engine unusable (exit 3). */
export async function runOrFail(
  file: string,
  args: readonly string[],
  context = "",
  timeoutMs = 15_000,
): Promise<void> {
  const outcome = await runCommand(file, args, { timeoutMs });
  if (outcome.code !== 0) throw new EngineUnavailable(`${context}${file} ${args.join(" ")}: ${outcome.stderr.trim()}`);
}

/** Whether a process of this machine is alive (signal 0 reaches it). */
export function isProcessAlive(pid: number | undefined): boolean {
  if (!pid || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, and belongs to another user (a root run, seen by a user's `docknet clean`).
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Sends SIGTERM and waits for the process to end; false when it still runs after `timeoutMs`. */
export async function terminateProcess(pid: number, timeoutMs: number): Promise<boolean> {
  if (!isProcessAlive(pid)) return true;
  process.kill(pid, "SIGTERM");
  return waitFor(async () => !isProcessAlive(pid), timeoutMs, 50);
}

/** Finds a program on PATH (like `command -v`), or undefined. */
export async function findProgram(name: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? "").split(":")) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}
