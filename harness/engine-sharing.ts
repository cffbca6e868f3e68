import type { Scenario } from "./scenario.js";

/**
 * What a daemon.json setting changes, for the settings whose effect stays
 * within one aspect of the engine that scenarios of other aspects do not
 * observe. Scenarios whose settings are of different aspects can share one
 * private engine started with all of them: each engine docknet starts costs
 * about three CPU-seconds (dockerd, its outside host, a Node process with
 * testcontainers), more than a few containers do.
 *
 * A setting not named here (icc aside, anything that changes firewalling,
 * IPv6, the default bridge's existence, restarts or subnet pools) keeps its
 * scenarios on an engine of their own configuration, as before.
 */
const ASPECT_OF_SETTING: Readonly<Record<string, string>> = {
  bip: "the default bridge's addressing",
  "fixed-cidr": "the default bridge's addressing",
  "default-gateway": "the default bridge's addressing",
  mtu: "the default bridge's addressing",
  ip: "how published ports are bound",
  "userland-proxy": "how published ports are bound",
  dns: "containers' nameservers",
  "dns-search": "containers' nameservers",
  "dns-opts": "containers' nameservers",
  icc: "traffic between default-bridge containers",
};

type DaemonConfig = Readonly<Record<string, unknown>>;

export interface EngineGroup {
  /** The daemon.json the group's engine starts with: every setting its scenarios need. */
  readonly config: DaemonConfig;
  readonly scenarios: Scenario[];
}

/** The settings of `config` that belong to `aspect`, as JSON (so that two equal sets compare equal). */
const settingsOf = (config: DaemonConfig, aspect: string): string =>
  JSON.stringify(
    Object.keys(config)
      .filter((key) => ASPECT_OF_SETTING[key] === aspect)
      .sort()
      .map((key) => [key, config[key]]),
  );

const aspectsOf = (config: DaemonConfig): Set<string> =>
  new Set(Object.keys(config).map((key) => ASPECT_OF_SETTING[key] ?? `the setting ${key}`));

/** Whether a scenario can be on an engine with other scenarios' settings: every setting of its own is of a known aspect. */
const shareable = (s: Scenario): boolean =>
  s.exclusive !== true &&
  s.ownEngine !== true &&
  Object.keys(s.daemon ?? {}).every((key) => ASPECT_OF_SETTING[key] !== undefined);

/** Whether `config` can join `group`: for each aspect both set, the very same settings. */
const compatible = (group: DaemonConfig, config: DaemonConfig): boolean =>
  [...aspectsOf(config)].every(
    (aspect) => !aspectsOf(group).has(aspect) || settingsOf(group, aspect) === settingsOf(config, aspect),
  );

/**
 * The private engines a run starts for scenarios that need a daemon.json (or
 * an engine of their own), in the scenarios' order: scenarios with the same
 * configuration share an engine, and so do shareable scenarios whose settings
 * are of different aspects (or the same settings of one aspect). Every
 * scenario still gets an engine that has each of its settings.
 */
export function engineGroups(scenarios: readonly Scenario[]): EngineGroup[] {
  // Scenarios that restart the engine, and those only alone on it, go on engines apart: two lanes, not one.
  const groups: Array<{ config: DaemonConfig; scenarios: Scenario[]; kind: "shared" | "own" | "alone" }> = [];
  for (const s of scenarios) {
    const config = s.daemon ?? {};
    const kind = shareable(s) ? "shared" : s.ownEngine ? "own" : "alone";
    const same = groups.find((g) => JSON.stringify(g.config) === JSON.stringify(config) && g.kind === kind);
    const joinable =
      kind === "shared" ? groups.find((g) => g.kind === "shared" && compatible(g.config, config)) : undefined;
    const group = same ?? joinable;
    if (group) {
      group.config = { ...group.config, ...config };
      group.scenarios.push(s);
    } else groups.push({ config, scenarios: [s], kind });
  }
  return groups.map(({ config, scenarios }) => ({ config, scenarios }));
}
