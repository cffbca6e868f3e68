import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { junit10Errors } from "../junit-10.js";
import { schemaErrors } from "../schemas.js";

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
  options: {
    env?: NodeJS.ProcessEnv;
    prefix?: string[];
    onStderr?: (text: string, child: ReturnType<typeof spawn>) => void;
  } = {},
): Promise<Outcome> {
  return new Promise((resolve, reject) => {
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
    child.on("exit", (code, signal) => {
      const invalid = invalidReports(args, stdout);
      if (invalid.length)
        reject(new Error(`docknet ${args.join(" ")} wrote a report its contract refuses:\n${invalid.join("\n")}`));
      else resolve({ code, signal, stdout, stderr });
    });
  });
}

/**
 * Every report a run wrote, checked against its contract: JSON (--json -,
 * --json FILE) against its schema, JUnit (--junit FILE) against junit-10.xsd's
 * rules; the listings (list, engine list/info, lab up/status) print their
 * document on stdout with a bare --json. The complaints, [] when all are valid.
 */
function invalidReports(args: readonly string[], stdout: string): string[] {
  if (args[0] !== "run" && args[0] !== "doctor") return args.includes("--json") ? jsonErrors("stdout", stdout) : [];
  const written = (flag: string): Array<[string, string]> =>
    args.flatMap((arg, i): Array<[string, string]> => {
      const target = args[i + 1];
      if (arg !== flag || !target) return [];
      if (target === "-") return [["stdout", stdout]];
      return existsSync(target) ? [[target, readFileSync(target, "utf8")]] : [];
    });
  const json = written("--json").flatMap(([where, text]) => jsonErrors(where, text));
  const junit = written("--junit").flatMap(([where, text]) => junit10Errors(text).map((e) => `${where}: ${e}`));
  return [...json, ...junit];
}

/** A JSON document's complaints against its kind's schema; text that is not JSON (an error before any report) is the test's to judge. */
function jsonErrors(where: string, text: string): string[] {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    return [];
  }
  return schemaErrors(document).map((e) => `${where}: ${e}`);
}
