import type { Evidence } from "../harness/evidence.js";
import type { Explanation, ScenarioResult } from "../harness/results.js";

/** A scenario result in words, as failure bodies and console blocks show it. */

/** The evidence of a scenario as the body of a failure or of system-out. */
export function evidenceText(evidence: readonly Evidence[]): string {
  return evidence
    .map(
      (e) =>
        `${e.ok ? "ok  " : "FAIL"} ${e.claim}\n     expected: ${e.expected}\n     observed: ${e.observed}\n     how: ${e.how}${!e.ok && e.raw ? `\n     output: ${e.raw.trim().replace(/\n/g, "\n             ")}` : ""}`,
    )
    .join("\n");
}

/** "likely cause (docknet doctor D-HOST-01, error): net.ipv4.ip_forward = 0 — fix: …" per finding. */
export function explanationText(causes: readonly Explanation[]): string {
  return causes
    .map((e) => `likely cause (docknet doctor ${e.check}, ${e.severity}): ${e.seen.join("; ")}\n  fix: ${e.fix}`)
    .join("\n");
}

/** Skips grouped by their reason, in first-seen order: one line a reason, not one a result. */
export function skipsByReason(
  results: ReadonlyArray<{ readonly id: string; readonly status: string; readonly reason?: string }>,
  skipped = "skipped",
): Array<{ reason: string; ids: string[] }> {
  const groups = new Map<string, string[]>();
  for (const r of results) {
    if (r.status !== skipped) continue;
    const reason = r.reason ?? "no reason given";
    groups.set(reason, [...(groups.get(reason) ?? []), r.id]);
  }
  return [...groups].map(([reason, ids]) => ({ reason, ids: [...new Set(ids)] }));
}

/**
 * A matrix column's name: the engine's version as it reports it, with its family when not Docker,
 * its mode when rootless and its firewall when not its usual one ("podman 4.3.1", "28.5.2 rootless",
 * "28.5.2 iptables-legacy"); else the spec asked for.
 */
export function matrixEngineLabel(engine: {
  readonly spec: string;
  readonly report?: {
    readonly engine: {
      readonly engineVersion: string;
      readonly profile: { readonly family: string; readonly mode?: string; readonly firewall?: string };
    };
  };
}): string {
  if (!engine.report) return engine.spec;
  const { profile } = engine.report.engine;
  const version = engine.report.engine.engineVersion.replace(/[+~].*$/, "");
  // A family's usual firewall goes without saying: Docker's iptables-nft, Podman's netavark.
  const firewall = ["iptables-nft", "netavark", "unknown", undefined].includes(profile.firewall)
    ? ""
    : profile.firewall;
  return [
    profile.family === "docker" ? "" : profile.family,
    version,
    profile.mode === "rootless" ? "rootless" : "",
    firewall,
  ]
    .filter(Boolean)
    .join(" ");
}

/** "  DNS-01: podman: what (source)", one line per documented difference a result's expectation followed. */
export function differenceLines(results: readonly ScenarioResult[]): string[] {
  return results.flatMap((r) =>
    (r.documentedDifferences ?? []).map((d) => `  ${r.id}: ${d.family}: ${d.what} (${d.source})`),
  );
}

/** "  OV-05, OV-15: kernel has no CONFIG_IP_VS…" lines for a console. */
export function skipLines(results: Parameters<typeof skipsByReason>[0]): string[] {
  return skipsByReason(results).map(({ reason, ids }) => `  ${ids.join(", ")}: ${reason}`);
}
