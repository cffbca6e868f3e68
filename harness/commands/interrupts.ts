import { ExitCode } from "../exit-codes.js";
import { watchParent } from "../vantage.js";

/**
 * Ctrl-C and SIGTERM (and --run-timeout) cancel the run; it then removes what
 * it made and exits 130 or 143 (1 for the run timeout). A second signal exits at once (docknet clean
 * removes what is left). A fault of docknet's own (a promise nobody awaited that
 * failed) ends the run the same way with exit 4: crashing would leave the
 * engine and everything the run made behind.
 */
export function watchInterrupts(
  abort: AbortController,
  options: { readonly runTimeoutMs?: number } = {},
): { exitCode: () => number | undefined } {
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
  // --run-timeout: the whole run's limit ends it as Ctrl-C would, keeping its verdicts; the run failed.
  if (options.runTimeoutMs !== undefined) {
    const limit = `the run timeout (${options.runTimeoutMs / 1000}s)`;
    setTimeout(() => {
      if (abort.signal.aborted) return;
      exitCode = ExitCode.failed;
      abort.abort(limit);
      process.stderr.write(`\n${limit} was reached: removing what this run made...\n`);
    }, options.runTimeoutMs).unref();
  }
  process.on("unhandledRejection", (reason) => {
    const text = reason instanceof Error ? reason.message : String(reason);
    process.stderr.write(`\ndocknet: internal error (a bug in docknet): ${text.split("\n")[0]}\n`);
    if (abort.signal.aborted) return;
    exitCode = ExitCode.internal;
    abort.abort("an internal error");
    process.stderr.write("removing what this run made...\n");
  });
  // Run through the helper for a user whose process died (kill -9): clean up as on SIGTERM.
  watchParent(() => process.kill(process.pid, "SIGTERM"));
  return { exitCode: () => exitCode };
}
