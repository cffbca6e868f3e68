import type { EngineChoice } from "../engine/engine.js";
import { parseEngineSpec } from "../engine/engine-fetch.js";
import { parsePodmanSpec } from "../engine/podman-binaries.js";
import { parseProfileChoice } from "../profile-choice.js";
import type { FirewallChoice } from "../engine/iptables-variant.js";
import { validateLabSize } from "../engine/multi-host-lab.js";
import { UsageError } from "../exit-codes.js";
import { parseFaultChoice, type FaultChoice } from "../lab/faults.js";
import type { Scenario } from "../scenario.js";
import { selectScenarios } from "../selection.js";
import { selectionWords } from "./list.js";
import { refuseUnwritableOutputs } from "./output-files.js";

/** `docknet run`'s options, as the command line gives them. */
export interface RunFlags {
  engine: EngineChoice;
  fault?: string[];
  /** --engine-groups: set by docknet on the lanes it starts, which read their groups on stdin (engine-lanes.ts). */
  engineGroups?: boolean;
  engineVersion?: string;
  /** --profile NAME: the engine a profile names (profile-choice.ts), as --engine or --engine-version would. */
  profile?: string;
  /** --firewall: the iptables a private dockerd's host uses (iptables-variant.ts). */
  firewall?: FirewallChoice;
  matrix?: string[];
  area?: string[];
  tag?: string[];
  grep?: string;
  /** Unset: the engine's own default (defaultConcurrency). */
  concurrency?: number;
  timeout: number;
  repeat: number;
  strict?: boolean;
  junit?: string;
  json?: string;
  /** --markdown FILE|-: the summary a CI step shows. */
  markdown?: string;
  /** --keep-on-failure DIR: a bundle per failed scenario, collected before its teardown. */
  keepOnFailure?: string;
  /** --html FILE: one self-contained page for people. */
  html?: string;
  /** --conformance FILE: the conformance report per profile (YAML; JSON when FILE ends in .json). */
  conformance?: string;
  probeImage?: string;
  daemonConfig?: string;
  color?: boolean;
  lab?: string;
  managers?: number;
  nodes?: string[];
  driver?: string;
  macvlanParent?: string;
  /** --pull-probe [image]: true for the pinned busybox, or the reference the user named. */
  pullProbe?: string | true;
  /** --rerun-failed REPORT: the scenarios that did not pass in an earlier run's JSON or JUnit. */
  rerunFailed?: string;
  /** --kernel-vm: the run goes into a VM with a stock distribution kernel. */
  kernelVm?: boolean;
  /** --run-timeout: the whole run's limit, in milliseconds. */
  runTimeout?: number;
  /** false with --no-helper: never run through a privileged helper container when not root. */
  helper: boolean;
}

/**
 * What planning reads of the world: the scenarios, and the files the options
 * name. Given as functions, so that planning is a pure function of them, and
 * its tests need no files.
 */
export interface PlanningInputs {
  readonly scenarios: readonly Scenario[];
  /** Why a report could not be written there, or undefined. */
  outputProblem(path: string): string | undefined;
  /** Why bundles could not be written in that directory, or undefined. */
  directoryProblem(path: string): string | undefined;
  /** The scenarios an earlier report says did not pass (a UsageError when it cannot be read). */
  failedIn(report: string): string[];
  /** A --daemon-config file, parsed and checked (a UsageError when dockerd would refuse it). */
  daemonConfig(path: string): Record<string, unknown>;
}

/** Where multi-host scenarios run: a lab the run brings up, one `docknet lab up` made, or the user's swarm. */
export type ClusterPlan =
  | { readonly lab: number; readonly managers?: number }
  | { readonly labId: string }
  | { readonly nodes: readonly string[] };

export type RunPlan =
  | { readonly kind: "nothing-to-rerun"; readonly report: string }
  /** The run goes into docknet's kernel VM, with these words and the flags as given. */
  | { readonly kind: "kernel-vm"; readonly words: readonly string[] }
  | {
      readonly kind: "matrix";
      readonly words: readonly string[];
      readonly specs: readonly string[];
      readonly scenarios: readonly Scenario[];
    }
  | {
      readonly kind: "run";
      readonly words: readonly string[];
      readonly scenarios: readonly Scenario[];
      /** Selected scenarios left out by --driver (not driver-generic). */
      readonly notForDriver: number;
      readonly engine: EngineChoice;
      readonly daemonConfig?: Record<string, unknown>;
      readonly engineVersion?: string;
      readonly firewall?: FirewallChoice;
      readonly cluster?: ClusterPlan;
      readonly faults: readonly FaultChoice[];
      /** Whether a run that is not root may go through the helper container (an engine the user already has). */
      readonly helperApplies: boolean;
    };

const NO_SCENARIO = "the selection matches no scenario (see: docknet list)";

/**
 * --profile as the options it stands for: `podman` is --engine podman (`podman-5.4` with
 * --engine-version 5.4), `docker-28` is
 * --engine-version 28, `docker` is --engine private. Given with either of those, it is refused.
 */
export function withProfile(flags: RunFlags): RunFlags {
  if (!flags.profile) return flags;
  if (flags.engine !== "auto" || flags.engineVersion)
    throw new UsageError("--profile names the engine: drop --engine and --engine-version");
  const choice = parseProfileChoice(flags.profile);
  if (choice.family === "podman")
    return { ...flags, engine: "podman", ...(choice.version ? { engineVersion: choice.version } : {}) };
  const engine = choice.rootless ? "rootless" : choice.version ? flags.engine : "private";
  return {
    ...flags,
    engine,
    ...(choice.version ? { engineVersion: choice.version } : {}),
    ...(choice.firewall ? { firewall: choice.firewall } : {}),
  };
}

/**
 * `docknet run`'s options, as a plan: every usage error (exit 2) is raised
 * here, before anything starts, and nothing here starts anything.
 */
export function planRun(given: readonly string[], flags: RunFlags, inputs: PlanningInputs): RunPlan {
  refuseUnwritableOutputs(
    {
      "--junit": flags.junit,
      "--json": flags.json,
      "--markdown": flags.markdown,
      "--html": flags.html,
      "--conformance": flags.conformance,
    },
    inputs.outputProblem,
  );
  const bundleProblem = flags.keepOnFailure ? inputs.directoryProblem(flags.keepOnFailure) : undefined;
  if (bundleProblem) throw new UsageError(`--keep-on-failure ${flags.keepOnFailure}: ${bundleProblem}`);
  if (flags.rerunFailed && given.length)
    throw new UsageError("--rerun-failed chooses the scenarios itself: give it no scenario ids, areas or patterns");
  const words = flags.rerunFailed ? inputs.failedIn(flags.rerunFailed) : [...given];
  if (flags.rerunFailed && words.length === 0) return { kind: "nothing-to-rerun", report: flags.rerunFailed };
  if (flags.json === "-" && flags.markdown === "-")
    throw new UsageError("--json - and --markdown - both want stdout: give one of them a file");
  const selected = selectScenarios(inputs.scenarios, selectionWords(words, flags));
  const scenarios = flags.driver ? selected.filter((s) => s.tags.includes("driver-generic")) : selected;
  if (flags.kernelVm) {
    refuseWithKernelVm(flags);
    if (scenarios.length === 0) throw new UsageError(NO_SCENARIO);
    if (flags.engineVersion) parseEngineSpec(flags.engineVersion);
    return { kind: "kernel-vm", words };
  }
  if (flags.matrix) {
    if (flags.engine !== "auto" || flags.engineVersion || flags.profile || flags.firewall)
      throw new UsageError(
        "--matrix runs a private engine of each profile; drop --engine, --engine-version, --profile and --firewall",
      );
    for (const spec of flags.matrix) parseProfileChoice(spec);
    if (scenarios.length === 0) throw new UsageError(NO_SCENARIO);
    return { kind: "matrix", words, specs: flags.matrix, scenarios };
  }
  if (scenarios.length === 0) throw new UsageError(NO_SCENARIO);
  if (flags.daemonConfig && flags.engine === "current")
    throw new UsageError("--daemon-config needs a private engine (--engine private)");
  const daemonConfig = flags.daemonConfig ? inputs.daemonConfig(flags.daemonConfig) : undefined;
  if (flags.engineVersion && flags.engine === "current")
    throw new UsageError(
      "--engine-version runs a private engine of that version; it cannot be combined with --engine current",
    );
  // With --engine podman the version is Podman's (5.4, trixie), fetched like a dockerd's.
  if (flags.engineVersion && flags.engine === "podman") parsePodmanSpec(flags.engineVersion);
  if (flags.firewall && flags.engine !== "auto" && flags.engine !== "private")
    throw new UsageError(
      `--firewall chooses the iptables of docknet's own private dockerd; it cannot be combined with --engine ${flags.engine}`,
    );
  if (flags.daemonConfig && flags.engine === "podman")
    throw new UsageError("--daemon-config is dockerd's daemon.json; Podman has none (--engine podman)");
  const cluster = clusterPlan(flags);
  const faults = (flags.fault ?? []).map((text) => {
    const choice = parseFaultChoice(text);
    if (!choice) throw new UsageError(`unknown fault "${text}" (NAME or SCENARIO=NAME)`);
    return choice;
  });
  const ownEngine =
    daemonConfig !== undefined ||
    flags.engineVersion !== undefined ||
    flags.firewall !== undefined ||
    flags.engineGroups === true;
  // A rootless engine is private too, of the version asked for.
  const privateChoice = flags.engine === "rootless" || flags.engine === "podman" ? flags.engine : "private";
  const ownLab = cluster !== undefined && !("nodes" in cluster);
  return {
    kind: "run",
    words,
    scenarios,
    notForDriver: selected.length - scenarios.length,
    engine: ownEngine ? privateChoice : flags.engine,
    ...(daemonConfig ? { daemonConfig } : {}),
    ...(flags.engineVersion ? { engineVersion: flags.engineVersion } : {}),
    ...(flags.firewall ? { firewall: flags.firewall } : {}),
    ...(cluster ? { cluster } : {}),
    faults,
    helperApplies: !ownEngine && !ownLab && (flags.engine === "auto" || flags.engine === "current"),
  };
}

/** What --kernel-vm cannot be combined with, and why: bad input is exit 2 before a VM boots. */
function refuseWithKernelVm(flags: RunFlags): void {
  const refused = [
    flags.engine === "current" && "--engine current (the VM has an engine of its own)",
    flags.matrix && "--matrix",
    flags.nodes && "--nodes (the VM reaches no other machine)",
    flags.macvlanParent && "--macvlan-parent (the VM has only the links docknet makes)",
    flags.keepOnFailure && "--keep-on-failure (the VM's files go with it)",
    flags.probeImage && "--probe-image (the VM's engine has no images but the probe it builds)",
    flags.pullProbe && "--pull-probe (the VM has no network)",
    flags.firewall && "--firewall (the VM's engine uses the VM's iptables)",
  ].filter(Boolean);
  if (refused.length) throw new UsageError(`--kernel-vm cannot be combined with ${refused.join(", ")}`);
}

/** `--lab 3` brings a lab of 3 up for the run; `--lab <id>` runs on one `docknet lab up` made; `--nodes` names a swarm. */
function clusterPlan(flags: RunFlags): ClusterPlan | undefined {
  if (flags.lab && flags.nodes)
    throw new UsageError("--lab and --nodes both name where multi-host scenarios run: give one");
  if (flags.nodes) {
    if (flags.nodes.length < 2)
      throw new UsageError("--nodes needs at least two swarm nodes, a manager first (e.g. unix:///run/a.sock,ssh://b)");
    return { nodes: flags.nodes };
  }
  if (!flags.lab) {
    if (flags.managers) throw new UsageError("--managers goes with --lab N");
    return undefined;
  }
  // An id first: a lab made before ids always had a letter may be all digits, and no lab has 100000 hosts.
  if (/^[0-9a-f]{6}$/.test(flags.lab)) return { labId: flags.lab };
  if (/^\d+$/.test(flags.lab)) {
    const hosts = Number(flags.lab);
    const invalid = validateLabSize(hosts, flags.managers ?? 1);
    if (invalid) throw new UsageError(invalid.replace("--hosts", "--lab"));
    return { lab: hosts, ...(flags.managers ? { managers: flags.managers } : {}) };
  }
  throw new UsageError(
    `--lab takes a number of hosts (2-9) or the id of a lab that is up (docknet lab status), not "${flags.lab}"`,
  );
}
