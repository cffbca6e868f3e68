import { AsyncLocalStorage } from "node:async_hooks";
import { setTimeout as sleep } from "node:timers/promises";

/**
 * The cancellation of the scenario whose work is running. It travels in the
 * async context, not as an argument, because it must reach every probe action
 * and every wait a scenario body reaches through the lab (dozens of methods),
 * and work started inside a body keeps that body's context.
 */
const current = new AsyncLocalStorage<AbortSignal>();

/** Runs a scenario's work under its cancellation: the actions it reaches stop once `signal` aborts. */
export function runCancellable<T>(signal: AbortSignal, work: () => Promise<T>): Promise<T> {
  return current.run(signal, work);
}

/** A point where cancelled work stops: throws the cancellation's reason (the scenario's timeout or interrupt). */
export function cancellationPoint(): void {
  current.getStore()?.throwIfAborted();
}

/**
 * Starts `work` and waits for it, or ends at once with the cancellation's
 * reason. Only for work that is safe to abandon: a command in a probe (it runs
 * under its own `timeout`, and teardown removes the probe), never an engine call
 * that creates something teardown must find. `work` is a function so that
 * nothing starts once the scenario is cancelled: a command started then would
 * fail later against a removed probe, with nobody left to hear it.
 */
export function abandonOnCancel<T>(work: () => Promise<T>): Promise<T> {
  const signal = current.getStore();
  if (!signal) return work();
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  const started = work();
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener("abort", onAbort, { once: true });
    started.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/** Sleeps `ms`, or ends at once with the cancellation's reason. */
export async function pause(ms: number): Promise<void> {
  const signal = current.getStore();
  try {
    await sleep(ms, undefined, signal ? { signal } : {});
  } catch (error) {
    throw signal?.aborted ? (signal.reason as Error) : error;
  }
}

/**
 * Runs `work` outside any scenario's cancellation: for work several scenarios wait on (a shared
 * topology's build), which one scenario's timeout must not cut short for the others.
 */
export function detached<T>(work: () => Promise<T>): Promise<T> {
  return current.exit(work);
}
