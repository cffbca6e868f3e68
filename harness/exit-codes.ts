/**
 * Exit codes CI can trust, and the errors that map onto them.
 * 0 all passed, 1 a scenario failed, 2 usage error, 3 no usable engine,
 * 4 internal error, 130/143 interrupted (after cleanup).
 */
export const ExitCode = {
  ok: 0,
  failed: 1,
  usage: 2,
  noEngine: 3,
  internal: 4,
  interrupted: 130,
  terminated: 143,
} as const;

/** Bad input from the user: one line, exit 2, nothing created. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** No engine can be used (unreachable, not root, no dockerd, no busybox): exit 3. */
export class EngineUnavailable extends Error {
  override readonly name = "EngineUnavailable";
}
