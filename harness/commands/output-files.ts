import { closeSync, existsSync, mkdirSync, openSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { UsageError } from "../exit-codes.js";

/** Writes a report to a file (making its directory), or to stdout for "-". */
export function writeOutput(target: string, content: string): void {
  if (target === "-") {
    process.stdout.write(content);
    return;
  }
  makeDirectories(dirname(resolve(target)));
  writeFileSync(target, content);
}

/**
 * mkdir -p, one level at a time: Node's recursive mkdirSync spins forever where
 * the kernel answers ENOENT for a directory it will not create (under /proc).
 */
function makeDirectories(dir: string): void {
  if (existsSync(dir)) return;
  makeDirectories(dirname(dir));
  mkdirSync(dir);
}

/**
 * Why a report could not be written to `target`, or undefined when it can.
 * Tried for real (the directories made, a file opened and, if new, removed):
 * permissions alone do not tell, root is refused by read-only and pseudo file systems.
 */
export function outputPathProblem(target: string): string | undefined {
  if (target === "-") return undefined;
  const path = resolve(target);
  try {
    if (existsSync(path)) {
      if (statSync(path).isDirectory()) return `${target} is a directory`;
      closeSync(openSync(path, "r+"));
      return undefined;
    }
    makeDirectories(dirname(path));
    closeSync(openSync(path, "wx"));
    unlinkSync(path);
    return undefined;
  } catch (error) {
    return cannotWrite(error);
  }
}

/** "cannot write there: permission denied (/root/x.json)": the first failing step, in one line. */
function cannotWrite(error: unknown): string {
  const err = error as NodeJS.ErrnoException;
  return `cannot write there: ${err.code === "EACCES" || err.code === "EPERM" ? "permission denied" : (err.code ?? err.message)}${err.path ? ` (${err.path})` : ""}`;
}

/** Why files could not be written into directory `dir` (made if missing), or undefined when they can. */
export function outputDirectoryProblem(dir: string): string | undefined {
  const path = resolve(dir);
  try {
    if (existsSync(path) && !statSync(path).isDirectory()) return `${dir} is a file, not a directory`;
    makeDirectories(path);
    const probe = resolve(path, `.docknet-write-test-${process.pid}`);
    closeSync(openSync(probe, "wx"));
    unlinkSync(probe);
    return undefined;
  } catch (error) {
    return cannotWrite(error);
  }
}

/**
 * Checks every report path before any work starts, so that a run is never
 * lost to an unwritable --json at its end: exit 2, one line.
 */
export function refuseUnwritableOutputs(
  outputs: Readonly<Record<string, string | undefined>>,
  problemOf: (path: string) => string | undefined = outputPathProblem,
): void {
  for (const [option, target] of Object.entries(outputs)) {
    if (target === undefined) continue;
    const problem = problemOf(target);
    if (problem) throw new UsageError(`${option} ${target}: ${problem}`);
  }
}
