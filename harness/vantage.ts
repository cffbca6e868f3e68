import { isProcessAlive } from "./host-command.js";

/**
 * Where docknet runs commands on the engine's host (design.md: vantage): as
 * root on this machine; through a privileged helper container on the engine,
 * when the user is not root but may use the engine (harness/commands/root-helper.ts
 * re-runs the command there, as root); or nowhere, saying why.
 */

/** Set in a command run through the helper: the pid of the user's process (the host's process table is the helper's). */
export const PARENT_PID_ENV = "DOCKNET_PARENT_PID";
/** PARENT_PID_ENV's value when the user's process is on another host: it is watched through stdin, which ends with it. */
export const PARENT_ON_STDIN = "stdin";
/** Set in a command run through the helper or in docknet's kernel VM: how it got there, for the run header and the report. */
export const VANTAGE_ENV = "DOCKNET_VANTAGE";
/** Set in a command run through the helper: the owner label of the user's process, whose helper `clean` leaves alone. */
export const HELPER_OWNER_ENV = "DOCKNET_HELPER_OWNER";

/** Whether this process is a command the helper container runs for a user who is not root. */
export function runsThroughHelper(): boolean {
  return process.env[PARENT_PID_ENV] !== undefined;
}

/** The vantage in words, for the run header and reports; `without` says why there is none when docknet is not root. */
export function vantageDescription(without?: string): string {
  if (process.env[VANTAGE_ENV]) return process.env[VANTAGE_ENV];
  if (runsThroughHelper()) return "through a privileged helper container on the engine";
  if (process.getuid?.() === 0) return "as root on this machine";
  return `none: ${without ?? "docknet is not root"}`;
}

/** Calls `onGone` once when the user's process that started this one through the helper dies (kill -9), or its stdin ends. */
export function watchParent(onGone: () => void): void {
  if (process.env[PARENT_PID_ENV] === PARENT_ON_STDIN) {
    let gone = false;
    const once = () => {
      if (gone) return;
      gone = true;
      onGone();
    };
    process.stdin.on("end", once);
    process.stdin.on("close", once);
    process.stdin.on("error", once);
    process.stdin.resume();
    return;
  }
  const parent = Number(process.env[PARENT_PID_ENV]);
  if (!parent) return;
  const timer = setInterval(() => {
    if (isProcessAlive(parent)) return;
    clearInterval(timer);
    onGone();
  }, 1000);
  timer.unref();
}
