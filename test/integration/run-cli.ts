import { spawn } from "node:child_process";
import { join } from "node:path";

export const CLI = join(import.meta.dirname, "..", "..", "dist", "harness", "cli.js");

export interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI as a user would; `onStderr` may act on what it prints (e.g. interrupt it). */
export function docknet(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; prefix?: string[]; onStderr?: (text: string, child: ReturnType<typeof spawn>) => void } = {},
): Promise<Outcome> {
  return new Promise((resolve) => {
    const [command, ...rest] = [...(options.prefix ?? []), process.execPath, CLI, ...args];
    // No DOCKER_HOST unless a test sets one: the default is what a fresh machine has.
    const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_HOST: undefined, ...options.env };
    const child = spawn(command!, rest, { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      options.onStderr?.(stderr, child);
    });
    child.on("exit", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

