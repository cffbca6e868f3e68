import { readFileSync } from "node:fs";
import { daemonConfigProblems, networkSettingProblems } from "../doctor/checks/daemon-settings.js";
import { UsageError } from "../exit-codes.js";

/** A --daemon-config file, read and parsed: a missing or malformed one is a usage error. */
export function readDaemonConfig(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new UsageError(`--daemon-config ${path}: ${(error as Error).message}`);
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("not a JSON object");
    return parsed as Record<string, unknown>;
  } catch (error) {
    throw new UsageError(`--daemon-config ${path} is not a daemon.json object: ${(error as Error).message}`);
  }
}

/**
 * A daemon.json dockerd would refuse, or whose subnets overlap (IPv4 or IPv6
 * pools, fixed-cidr-v6 inside a pool), is one line and exit 2, before any
 * engine starts. The doctor reports the same problems on an engine's own.
 */
export function refuseUnworkableDaemonConfig(path: string, config: Record<string, unknown>): void {
  const problems = [...daemonConfigProblems(config, undefined), ...networkSettingProblems(config)];
  if (problems.length) throw new UsageError(`--daemon-config ${path}: ${problems.join("; ")}`);
}
