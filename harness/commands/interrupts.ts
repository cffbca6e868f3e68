import { ExitCode } from "../exit-codes.js";
import { watchParent } from "../vantage.js";

/**
 * Ctrl-C and SIGTERM stop scheduling new scenarios; the run then removes what
 * it made and exits 130 or 143. A second signal exits at once (docknet clean
 * removes what is left).
 */
export function watchInterrupts(abort: AbortController): { exitCode: () => number | undefined } {
  let exitCode: number | undefined;
  const handle = (signal: NodeJS.Signals, code: number) => {
    process.once(signal, () => {
      exitCode = code;
      // The signal's name is the reason: verdicts cut short say what cut them.
      abort.abort(signal);
      process.stderr.write(`\n${signal}: removing what this run made...\n`);
      process.once(signal, () => process.exit(code));
    });
  };
  handle("SIGINT", ExitCode.interrupted);
  handle("SIGTERM", ExitCode.terminated);
  // Run through the helper for a user whose process died (kill -9): clean up as on SIGTERM.
  watchParent(() => process.kill(process.pid, "SIGTERM"));
  return { exitCode: () => exitCode };
}

