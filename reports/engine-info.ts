import type { Capabilities } from "../harness/capabilities.js";

/** `docknet engine info`: what docknet knows of an engine before running anything, as scenarios see it. */
export function engineInfoText(description: string, facts: Capabilities): string {
  const rows: [string, string][] = [
    ["engine", description],
    ["version", `${facts.engineVersion} (API ${facts.apiVersion}), ${facts.os}, ${facts.osType}/${facts.architecture}`],
    ["network drivers", facts.networkDrivers.join(", ")],
    ["default bridge", facts.defaultBridge ? "yes" : "no (--bridge=none)"],
    ["swarm", facts.swarm],
    ["rootless", facts.rootless ? "yes" : "no"],
    ["profile", facts.profile.description],
    ["kernel", facts.kernel],
  ];
  if (facts.kernelMissing) {
    for (const [feature, missing] of Object.entries(facts.kernelMissing)) {
      rows.push([`  ${feature}`, missing.length ? `no: kernel has no ${missing.join(", ")}` : "yes"]);
    }
  } else {
    rows.push(["  features", "unknown (the engine's kernel is not this machine's)"]);
  }
  if (facts.sysctls) for (const [name, value] of Object.entries(facts.sysctls)) rows.push([name, value]);
  rows.push(["iptables", facts.iptablesBackend ?? "unknown"]);
  rows.push([
    "docknet as root",
    facts.root
      ? "yes: private engines, outside hosts and labs are possible"
      : "no: private engines, outside hosts and labs need root",
  ]);
  rows.push([
    "outside host",
    facts.outsideHost
      ? `${facts.outsideHost.address} (namespace ${facts.outsideHost.netns})`
      : "none (only around docknet's private engines)",
  ]);
  const width = Math.max(...rows.map(([k]) => k.length));
  return `${rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join("\n")}\n`;
}
