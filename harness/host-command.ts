import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

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
  options: { timeoutMs?: number } = {},
): Promise<CommandOutcome> {
  return new Promise((resolve) => {
    execFile(
      file,
      [...args],
      { timeout: options.timeoutMs ?? 30_000, killSignal: "SIGKILL", maxBuffer: 16 << 20, encoding: "utf8" },
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

/** Finds a program on PATH (like `command -v`), or undefined. */
export async function findProgram(name: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? "").split(":")) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}
