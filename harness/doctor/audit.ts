import { resolveCurrentDockerHost } from "../engine/docker-host.js";
import type { DoctorCheck } from "./check.js";
import { collectReadings } from "./collect.js";
import { diagnose, summarizeChecks, type DoctorReport } from "./doctor.js";

/** Audits the engine at a DOCKER_HOST-style address (the current one by default). Reads only. */
export async function audit(options: {
  dockerHost?: string;
  remote?: string;
  checks: readonly DoctorCheck[];
  version: string;
}): Promise<DoctorReport> {
  const startedAt = new Date().toISOString();
  const started = performance.now();
  const dockerHost = options.dockerHost ?? resolveCurrentDockerHost().host;
  const readings = await collectReadings(dockerHost, options.remote);
  const results = diagnose(readings, options.checks);
  return {
    tool: { name: "docknet", version: options.version },
    startedAt,
    dockerHost: options.remote ?? dockerHost,
    vantage: readings.vantage,
    results,
    summary: summarizeChecks(results, performance.now() - started),
  };
}
