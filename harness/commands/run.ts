import { jsonReport, matrixJsonReport } from "../../reports/json.js";
import { junitXml } from "../../reports/junit.js";
import { matrixMarkdown, runMarkdown } from "../../reports/markdown.js";
import { matrixHtml, runHtml } from "../../reports/html.js";
import { matrixText } from "../../reports/matrix-console.js";
import type { EngineChoice } from "../engine/engine.js";
import { engineOfVersion, parseEngineSpec } from "../engine/engine-fetch.js";
import { validateLabSize } from "../engine/multi-host-lab.js";
import { ExitCode, UsageError } from "../exit-codes.js";
import { parseFaultChoice, type FaultChoice } from "../lab/faults.js";
import { matrixFailed, runMatrix } from "../matrix.js";
import { runFailed, type RunReport } from "../results.js";
import { timeScale } from "../time-scale.js";
import { vantageDescription } from "../vantage.js";
import { helperRoute, runAsRootThroughEngine } from "./root-helper.js";
import { PINNED_PROBE_IMAGE } from "../lab/probe-image.js";
import { ConsoleReporter, wantsColor } from "../../reports/console.js";
import type { ClusterChoice } from "../session.js";
import { VERSION } from "../version.js";
import { failedScenarioIds } from "./rerun.js";
import { readDaemonConfig, refuseUnworkableDaemonConfig } from "./daemon-config-file.js";
import { watchInterrupts } from "./interrupts.js";
import { chosenScenarios } from "./list.js";
import { outputDirectoryProblem, refuseUnwritableOutputs, writeOutput } from "./output-files.js";
import { resolve } from "node:path";

export interface RunFlags {
  engine: EngineChoice;
  fault?: string[];
  engineStartedForScenarios?: boolean;
  engineVersion?: string;
  matrix?: string[];
  area?: string[];
  tag?: string[];
  grep?: string;
  concurrency: number;
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

/** `--lab 3` brings a lab of 3 up for the run; `--lab <id>` runs on one `docknet lab up` made; `--nodes` names a swarm. */
function clusterChoice(flags: RunFlags): ClusterChoice | undefined {
  if (flags.lab && flags.nodes) throw new UsageError("--lab and --nodes both name where multi-host scenarios run: give one");
  if (flags.nodes) {
    if (flags.nodes.length < 2) throw new UsageError("--nodes needs at least two swarm nodes, a manager first (e.g. unix:///run/a.sock,ssh://b)");
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
    return { lab: hosts, ...(flags.managers ? { managers: flags.managers } : {}), onProgress: (line) => process.stderr.write(`${line}\n`) };
  }
  throw new UsageError(`--lab takes a number of hosts (2-9) or the id of a lab that is up (docknet lab status), not "${flags.lab}"`);
}

function labFault(text: string): FaultChoice {
  const choice = parseFaultChoice(text);
  if (!choice) throw new UsageError(`unknown fault "${text}" (NAME or SCENARIO=NAME)`);
  return choice;
}

/** The `docknet run` arguments that carry a selection and its settings into each run of a matrix. */
function matrixRunArgs(words: string[], flags: RunFlags): string[] {
  return [
    ...words,
    ...(flags.area ?? []).flatMap((a) => ["--area", a]),
    ...(flags.tag ?? []).flatMap((t) => ["--tag", t]),
    ...(flags.grep ? ["--grep", flags.grep] : []),
    "--concurrency", String(flags.concurrency),
    "--timeout", `${flags.timeout}ms`,
    "--repeat", String(flags.repeat),
    ...(flags.strict ? ["--strict"] : []),
    ...(flags.probeImage ? ["--probe-image", flags.probeImage] : []),
    ...(flags.pullProbe ? ["--pull-probe", pulledProbe(flags.pullProbe)] : []),
    ...(flags.daemonConfig ? ["--daemon-config", flags.daemonConfig] : []),
  ];
}

async function matrixAction(words: string[], flags: RunFlags, specs: string[]): Promise<number> {
  if (flags.engine === "current" || flags.engineVersion) throw new UsageError("--matrix runs a private engine of each version; drop --engine current and --engine-version");
  for (const spec of specs) parseEngineSpec(spec);
  const scenarios = await chosenScenarios(words, flags);
  if (scenarios.length === 0) throw new UsageError("the selection matches no scenario (see: docknet list)");
  const abort = new AbortController();
  const interrupts = watchInterrupts(abort, flags.runTimeout ? { runTimeoutMs: flags.runTimeout } : {});
  process.stderr.write(`docknet ${VERSION}: ${scenarios.length} scenario(s) on ${specs.length} engines, one after another\n`);
  const matrix = await runMatrix({
    specs,
    runArgs: matrixRunArgs(words, flags),
    onLine: (spec, line) => process.stderr.write(`[${spec}] ${line}\n`),
    signal: abort.signal,
  });
  if (abort.signal.aborted) return interrupts.exitCode()!;
  process.stderr.write(`\n${matrixText(matrix)}`);
  const reports = matrix.engines.flatMap((e) => (e.report ? [e.report] : []));
  if (flags.junit) writeOutput(flags.junit, junitXml(reports));
  if (flags.json) writeOutput(flags.json, matrixJsonReport(matrix));
  if (flags.markdown) writeOutput(flags.markdown, matrixMarkdown(matrix));
  if (flags.html) writeOutput(flags.html, matrixHtml(matrix));
  return matrixFailed(matrix, Boolean(flags.strict)) ? ExitCode.failed : ExitCode.ok;
}

/** Every report of a run the user asked for: JUnit, JSON, Markdown, HTML. */
function writeRunReports(flags: RunFlags, report: RunReport): void {
  if (flags.junit) writeOutput(flags.junit, junitXml(report));
  if (flags.json) writeOutput(flags.json, jsonReport(report));
  if (flags.markdown) writeOutput(flags.markdown, runMarkdown(report));
  if (flags.html) writeOutput(flags.html, runHtml(report));
}

/** With --driver, only the scenarios that hold for any network driver run (tag driver-generic). */
function forDriver<T extends { tags: readonly string[]; id: string }>(scenarios: readonly T[], driver: string | undefined): readonly T[] {
  if (!driver) return scenarios;
  const generic = scenarios.filter((s) => s.tags.includes("driver-generic"));
  const dropped = scenarios.length - generic.length;
  if (dropped > 0) process.stderr.write(`--driver ${driver}: ${generic.length} driver-generic scenario(s) of the ${scenarios.length} selected (docknet list tag:driver-generic)\n`);
  return generic;
}

export async function runAction(given: string[], flags: RunFlags): Promise<number> {
  refuseUnwritableOutputs({ "--junit": flags.junit, "--json": flags.json, "--markdown": flags.markdown, "--html": flags.html });
  const bundleProblem = flags.keepOnFailure ? outputDirectoryProblem(flags.keepOnFailure) : undefined;
  if (bundleProblem) throw new UsageError(`--keep-on-failure ${flags.keepOnFailure}: ${bundleProblem}`);
  const words = flags.rerunFailed ? failedSelection(given, flags.rerunFailed) : given;
  if (words.length === 0 && flags.rerunFailed) {
    process.stderr.write(`docknet: nothing failed in ${flags.rerunFailed}: nothing to rerun\n`);
    return ExitCode.ok;
  }
  if (flags.json === "-" && flags.markdown === "-") throw new UsageError("--json - and --markdown - both want stdout: give one of them a file");
  if (flags.kernelVm) return kernelVmAction(words, flags);
  if (flags.matrix) return matrixAction(words, flags, flags.matrix);
  const scenarios = forDriver(await chosenScenarios(words, flags), flags.driver);
  const { explainFailures, openSession, runConformance } = await import("../session.js");
  if (scenarios.length === 0) throw new UsageError("the selection matches no scenario (see: docknet list)");
  if (flags.daemonConfig && flags.engine === "current") throw new UsageError("--daemon-config needs a private engine (--engine private)");
  const daemonConfig = flags.daemonConfig ? readDaemonConfig(flags.daemonConfig) : undefined;
  if (daemonConfig) refuseUnworkableDaemonConfig(flags.daemonConfig!, daemonConfig);
  if (flags.engineVersion && flags.engine === "current") throw new UsageError("--engine-version runs a private engine of that version; it cannot be combined with --engine current");
  const dockerd = flags.engineVersion ? (await engineOfVersion(flags.engineVersion, (line) => process.stderr.write(`engine ${flags.engineVersion}: ${line}\n`))).dockerd : undefined;
  const cluster = clusterChoice(flags);
  // Not root, but allowed to use a local engine: the run goes to the engine's host as root, through a helper container.
  let notRoot: string | undefined;
  const ownLab = cluster !== undefined && !("nodes" in cluster);
  if (!daemonConfig && !dockerd && !ownLab && flags.engine !== "private") {
    const throughHelper = await runThroughHelper(words, flags);
    if (typeof throughHelper === "number") return throughHelper;
    notRoot = throughHelper.notRoot;
  }
  const abort = new AbortController();
  const interrupts = watchInterrupts(abort, flags.runTimeout ? { runTimeoutMs: flags.runTimeout } : {});
  process.stderr.write(`docknet ${VERSION}: ${scenarios.length} scenario(s); preparing the engine...\n`);
  const session = await openSession({
    ...(cluster ? { cluster } : {}),
    ...(flags.driver ? { networkDriver: flags.driver } : {}),
    ...(flags.macvlanParent ? { macvlanParent: flags.macvlanParent } : {}),
    engine: daemonConfig || dockerd ? "private" : flags.engine,
    ...(daemonConfig ? { daemonConfig } : {}),
    ...(dockerd ? { dockerd } : {}),
    ...(flags.fault ? { faults: flags.fault.map(labFault) } : {}),
    ...(flags.probeImage ? { probeImage: flags.probeImage } : {}),
    ...(flags.pullProbe ? { pullProbe: pulledProbe(flags.pullProbe) } : {}),
    ...(notRoot ? { notRoot } : {}),
  });
  try {
    if (abort.signal.aborted) return interrupts.exitCode()!;
    const vantage = vantageDescription(notRoot);
    process.stderr.write(`engine: ${session.engine.description}; run ${session.lab.runId}${flags.driver ? `; user-defined networks use the ${flags.driver} driver` : ""}\n`);
    process.stderr.write(`commands on the engine's host: ${vantage}\n`);
    if (session.capabilities.cluster) process.stderr.write(`multi-host: ${session.capabilities.cluster.description}\n`);
    const reporter = new ConsoleReporter({ stream: process.stderr, total: scenarios.length * flags.repeat, ...(flags.color === false ? { color: false } : {}) });
    const outcome = await runConformance(session, {
      scenarios,
      concurrency: flags.concurrency,
      timeoutMs: flags.timeout,
      strict: Boolean(flags.strict),
      repeat: flags.repeat,
      signal: abort.signal,
      onEvent: reporter.onEvent,
      ...(flags.engineStartedForScenarios ? { engineStartedForScenarios: true } : {}),
      ...(flags.keepOnFailure ? { keepOnFailure: resolve(flags.keepOnFailure) } : {}),
    });
    const explained = abort.signal.aborted || outcome.engineLost ? outcome : await explainFailures(outcome, session.engine.dockerHost).catch(() => outcome);
    const report = { ...explained, vantage, ...(timeScale() > 1 ? { timeScale: timeScale() } : {}) };
    reporter.finish(report);
    // An interrupted run keeps its verdicts: the finished ones, and the rest marked interrupted.
    writeRunReports(flags, report);
    if (abort.signal.aborted) return interrupts.exitCode()!;
    if (report.engineLost) {
      process.stderr.write(`docknet: ${report.engineLost}\n`);
      return ExitCode.noEngine;
    }
    return runFailed(report) ? ExitCode.failed : ExitCode.ok;
  } finally {
    await session.close();
  }
}


/**
 * --kernel-vm: checked here (bad input is exit 2 before a VM boots), run in
 * the VM on a private engine there, reported here.
 */
async function kernelVmAction(words: string[], flags: RunFlags): Promise<number> {
  const refused = [
    flags.engine === "current" && "--engine current (the VM has an engine of its own)",
    flags.matrix && "--matrix",
    flags.nodes && "--nodes (the VM reaches no other machine)",
    flags.macvlanParent && "--macvlan-parent (the VM has only the links docknet makes)",
    flags.keepOnFailure && "--keep-on-failure (the VM's files go with it)",
    flags.probeImage && "--probe-image (the VM's engine has no images but the probe it builds)",
    flags.pullProbe && "--pull-probe (the VM has no network)",
  ].filter(Boolean);
  if (refused.length) throw new UsageError(`--kernel-vm cannot be combined with ${refused.join(", ")}`);
  if (forDriver(await chosenScenarios(words, flags), flags.driver).length === 0) throw new UsageError("the selection matches no scenario (see: docknet list)");
  if (flags.engineVersion) parseEngineSpec(flags.engineVersion);
  const { runInKernelVmAction } = await import("./kernel-vm-run.js");
  return runInKernelVmAction({
    runArgs: [
      ...matrixRunArgs(words, flags).map((arg, i, all) => (all[i - 1] === "--daemon-config" ? resolve(arg) : arg)),
      ...(flags.engineVersion ? ["--engine-version", flags.engineVersion] : []),
      ...(flags.lab ? ["--lab", flags.lab] : []),
      ...(flags.managers ? ["--managers", String(flags.managers)] : []),
      ...(flags.driver ? ["--driver", flags.driver] : []),
      ...(flags.fault ? ["--fault", ...flags.fault] : []),
    ],
    ...(flags.runTimeout ? { runTimeoutMs: flags.runTimeout } : {}),
    writeReports: (report) => writeRunReports(flags, report),
  });
}

/** The `docknet run` arguments of a run handed to the helper: the selection and settings, the report on stdout. */
function helperRunArgs(words: string[], flags: RunFlags): string[] {
  return [
    "run",
    ...matrixRunArgs(words, flags),
    "--engine", "current",
    ...(flags.runTimeout ? ["--run-timeout", `${flags.runTimeout}ms`] : []),
    ...(flags.keepOnFailure ? ["--keep-on-failure", resolve(flags.keepOnFailure)] : []),
    ...(flags.driver ? ["--driver", flags.driver] : []),
    ...(flags.macvlanParent ? ["--macvlan-parent", flags.macvlanParent] : []),
    ...(flags.nodes ? ["--nodes", flags.nodes.join(",")] : []),
    ...(flags.fault ? ["--fault", ...flags.fault] : []),
    "--json", "-",
  ];
}

/**
 * When docknet is not root and a local engine answers: the run, as root on the
 * engine's host through a helper container (its exit code), or why not (the
 * run then goes on here, and what needs the engine's host skips saying so).
 */
async function runThroughHelper(words: string[], flags: RunFlags): Promise<number | { notRoot: string }> {
  const route = await helperRoute(flags.helper);
  if (!route) return { notRoot: "" };
  if ("notRoot" in route) return route;
  process.stderr.write(`docknet ${VERSION}: not root: running as root on the engine's host through a privileged helper container (--no-helper refuses)\n`);
  const color = flags.color !== false && wantsColor(process.stderr);
  const outcome = await runAsRootThroughEngine(route.engine, helperRunArgs(words, flags), {
    why: "docknet is not root",
    color,
    probe: { ...(flags.probeImage ? { override: flags.probeImage } : {}), ...(flags.pullProbe ? { pull: pulledProbe(flags.pullProbe) } : {}) },
  });
  if (!outcome.ran) {
    process.stderr.write(`docknet: ${outcome.refused}: running here instead; what needs the engine's host skips\n`);
    return { notRoot: `docknet is not root, and ${outcome.refused}` };
  }
  let report: RunReport | undefined;
  try {
    report = outcome.stdout.trim() ? (JSON.parse(outcome.stdout) as RunReport) : undefined;
  } catch {
    report = undefined;
  }
  if (report) writeRunReports(flags, report);
  return outcome.code;
}

/** The reference --pull-probe allows: the one named, or the pinned busybox. */
function pulledProbe(flag: string | true): string {
  return flag === true ? PINNED_PROBE_IMAGE : flag;
}

/** --rerun-failed: the failed scenarios of the report become the selection (further words would be ambiguous). */
function failedSelection(given: string[], report: string): string[] {
  if (given.length) throw new UsageError("--rerun-failed chooses the scenarios itself: give it no scenario ids, areas or patterns");
  return failedScenarioIds(report);
}
