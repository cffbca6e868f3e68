import { doctorConsoleText } from "../../reports/doctor-console.js";
import { doctorJunitXml } from "../../reports/doctor-junit.js";
import { doctorMarkdown } from "../../reports/doctor-markdown.js";
import { doctorJsonReport } from "../../reports/json.js";
import { audit } from "../doctor/audit.js";
import { ALL_CHECKS } from "../doctor/catalog.js";
import { doctorFailed, type FailOn } from "../doctor/doctor.js";
import { pingEngine, resolveCurrentDockerHost } from "../engine/docker-host.js";
import type { EngineChoice } from "../engine/engine.js";
import { selectEngine } from "../engine/select-engine.js";
import { isSshAddress } from "../engine/ssh-tunnel.js";
import { EngineUnavailable, ExitCode, UsageError } from "../exit-codes.js";
import { VERSION } from "../version.js";
import { readDaemonConfig } from "./daemon-config-file.js";
import { refuseUnwritableOutputs, writeOutput } from "./output-files.js";

import { useIptablesVariant, type FirewallChoice } from "../engine/iptables-variant.js";
export interface DoctorFlags {
  engine: EngineChoice;
  check?: string[];
  failOn: FailOn;
  json?: string;
  junit?: string;
  markdown?: string;
  daemonConfig?: string;
  /** --firewall: the iptables the private engine's host uses (iptables-variant.ts). */
  firewall?: FirewallChoice;
  verbose?: boolean;
  color?: boolean;
}

export async function doctorAction(flags: DoctorFlags): Promise<number> {
  refuseUnwritableOutputs({ "--json": flags.json, "--junit": flags.junit, "--markdown": flags.markdown });
  const wanted = (flags.check ?? []).map((id) => id.toUpperCase());
  const unknown = wanted.filter((id) => !ALL_CHECKS.some((c) => c.id === id));
  if (unknown.length) {
    // A catalog ID without its prefix is the likeliest slip: checks and scenarios share catalog numbers.
    const meant = unknown.map((id) => `D-${id}`).filter((id) => ALL_CHECKS.some((c) => c.id === id));
    const hint = meant.length
      ? `doctor checks are D-…: did you mean ${meant.join(" ")}?`
      : `checks: ${ALL_CHECKS.map((c) => c.id).join(" ")}`;
    throw new UsageError(`unknown check ${unknown.join(", ")} (${hint})`);
  }
  const checks = wanted.length ? ALL_CHECKS.filter((c) => wanted.includes(c.id)) : ALL_CHECKS;
  if (flags.daemonConfig && flags.engine !== "private")
    throw new UsageError("--daemon-config needs --engine private (docknet never changes an existing engine)");
  if (flags.firewall && flags.engine !== "private")
    throw new UsageError("--firewall needs --engine private (the iptables of docknet's own engine's host)");
  const daemonConfig = flags.daemonConfig ? readDaemonConfig(flags.daemonConfig) : undefined;
  if (flags.firewall && flags.firewall !== "firewalld") await useIptablesVariant(flags.firewall);
  const current = resolveCurrentDockerHost();
  let dockerHost: string | undefined;
  let remote: string | undefined;
  let stop = async () => {};
  if (flags.engine === "private") {
    process.stderr.write("docknet doctor: starting a private engine to audit...\n");
    const engine = await selectEngine("private", {
      ...(daemonConfig ? { daemonConfig } : {}),
      ...(flags.firewall === "firewalld" ? { firewalld: true } : {}),
    });
    dockerHost = engine.dockerHost;
    stop = () => engine.stop();
  } else if (isSshAddress(current.host)) {
    // An engine on another host, through docknet's ssh socket; the doctor reads its host through a helper container.
    const engine = await selectEngine("current");
    dockerHost = engine.dockerHost;
    remote = engine.remote;
    stop = () => engine.stop();
  } else {
    const problem = await pingEngine(current.host);
    if (problem !== undefined) {
      // An engine the user named must answer; only a missing default engine means "audit this machine alone".
      if (flags.engine === "current" || current.source !== "default socket") {
        throw new EngineUnavailable(`no engine answers at ${current.host} (from ${current.source}): ${problem}`);
      }
      process.stderr.write(
        `docknet doctor: no engine answers at ${current.host}; auditing this machine only (engine checks are skipped)\n`,
      );
    }
    dockerHost = current.host;
  }
  try {
    const report = await audit({ dockerHost, ...(remote ? { remote } : {}), checks, version: VERSION });
    process.stderr.write(
      doctorConsoleText(report, {
        stream: process.stderr,
        verbose: Boolean(flags.verbose),
        ...(flags.color === false ? { color: false } : {}),
      }),
    );
    if (flags.json) writeOutput(flags.json, doctorJsonReport(report));
    if (flags.junit) writeOutput(flags.junit, doctorJunitXml(report));
    if (flags.markdown) writeOutput(flags.markdown, doctorMarkdown(report));
    return doctorFailed(report.summary, flags.failOn) ? ExitCode.failed : ExitCode.ok;
  } finally {
    await stop();
  }
}
