import { isSshAddress } from "../engine/ssh-tunnel.js";
import { jsonReport, matrixJsonReport } from "../../reports/json.js";
import { junitXml } from "../../reports/junit.js";
import { matrixMarkdown, runMarkdown } from "../../reports/markdown.js";
import { conformanceText } from "../../reports/conformance.js";
import { matrixHtml, runHtml } from "../../reports/html.js";
import { matrixText } from "../../reports/matrix-console.js";
import { engineOfVersion } from "../engine/engine-fetch.js";
import { ExitCode } from "../exit-codes.js";
import { matrixFailed, runMatrix } from "../matrix.js";
import { runFailed, type RunReport } from "../results.js";
import { timeScale } from "../time-scale.js";
import { vantageDescription } from "../vantage.js";
import { helperRoute, runAsRootThroughEngine, type HelperOutcome } from "./root-helper.js";
import { PINNED_PROBE_IMAGE } from "../lab/probe-image.js";
import { ConsoleReporter, wantsColor } from "../../reports/console.js";
import { VERSION } from "../version.js";
import { failedScenarioIds } from "./rerun.js";
import { readDaemonConfig, refuseUnworkableDaemonConfig } from "./daemon-config-file.js";
import { watchInterrupts } from "./interrupts.js";
import { outputDirectoryProblem, outputPathProblem, writeOutput } from "./output-files.js";
import { planRun, withProfile, type PlanningInputs, type RunFlags, type RunPlan } from "./run-plan.js";
import { resolve } from "node:path";
import { createInterface } from "node:readline";
import { LANE_ANSWER, type EngineGroupPlan } from "../engine-lanes.js";
import { runEngineGroups } from "./engine-groups.js";

export type { RunFlags } from "./run-plan.js";

/** The `docknet run` arguments that carry a selection and its settings into each run of a matrix. */
function matrixRunArgs(words: string[], flags: RunFlags): string[] {
  return [
    ...words,
    ...(flags.area ?? []).flatMap((a) => ["--area", a]),
    ...(flags.tag ?? []).flatMap((t) => ["--tag", t]),
    ...(flags.grep ? ["--grep", flags.grep] : []),
    ...(flags.concurrency ? ["--concurrency", String(flags.concurrency)] : []),
    "--timeout",
    `${flags.timeout}ms`,
    "--repeat",
    String(flags.repeat),
    ...(flags.strict ? ["--strict"] : []),
    ...(flags.probeImage ? ["--probe-image", flags.probeImage] : []),
    ...(flags.pullProbe ? ["--pull-probe", pulledProbe(flags.pullProbe)] : []),
    ...(flags.daemonConfig ? ["--daemon-config", flags.daemonConfig] : []),
  ];
}

async function matrixAction(plan: Extract<RunPlan, { kind: "matrix" }>, flags: RunFlags): Promise<number> {
  const { words, specs, scenarios } = plan;
  const abort = new AbortController();
  const interrupts = watchInterrupts(abort, flags.runTimeout ? { runTimeoutMs: flags.runTimeout } : {});
  process.stderr.write(
    `docknet ${VERSION}: ${scenarios.length} scenario(s) on ${specs.length} engines, one after another\n`,
  );
  const matrix = await runMatrix({
    specs: [...specs],
    runArgs: matrixRunArgs([...words], flags),
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
  writeConformance(flags, reports);
  return matrixFailed(matrix, Boolean(flags.strict)) ? ExitCode.failed : ExitCode.ok;
}

/** Every report of a run the user asked for: JUnit, JSON, Markdown, HTML. */
function writeRunReports(flags: RunFlags, report: RunReport): void {
  if (flags.junit) writeOutput(flags.junit, junitXml(report));
  if (flags.json) writeOutput(flags.json, jsonReport(report));
  if (flags.markdown) writeOutput(flags.markdown, runMarkdown(report));
  if (flags.html) writeOutput(flags.html, runHtml(report));
  writeConformance(flags, [report]);
}

/** --conformance FILE: one report per profile run, YAML unless the file's name ends in .json. */
function writeConformance(flags: RunFlags, reports: readonly RunReport[]): void {
  if (flags.conformance)
    writeOutput(flags.conformance, conformanceText(reports, flags.conformance.endsWith(".json") ? "json" : "yaml"));
}

export async function runAction(given: string[], asGiven: RunFlags): Promise<number> {
  const flags = asGiven.matrix ? asGiven : withProfile(asGiven);
  const plan = planRun(given, flags, await planningInputs());
  if (plan.kind === "nothing-to-rerun") {
    process.stderr.write(`docknet: nothing failed in ${plan.report}: nothing to rerun\n`);
    return ExitCode.ok;
  }
  if (plan.kind === "kernel-vm") return kernelVmAction([...plan.words], flags);
  if (plan.kind === "matrix") return matrixAction(plan, flags);
  const { scenarios, daemonConfig } = plan;
  const words = [...plan.words];
  if (plan.notForDriver > 0) {
    process.stderr.write(
      `--driver ${flags.driver}: ${scenarios.length} driver-generic scenario(s) of the ${scenarios.length + plan.notForDriver} selected (docknet list tag:driver-generic)\n`,
    );
  }
  const { openSession, runConformance } = await import("../session.js");
  if (plan.firewall && plan.firewall !== "firewalld")
    await (await import("../engine/iptables-variant.js")).useIptablesVariant(plan.firewall);
  const podman =
    plan.engineVersion && plan.engine === "podman"
      ? await (
          await import("../engine/podman-binaries.js")
        ).podmanOfVersion(plan.engineVersion, (line) => process.stderr.write(`podman ${plan.engineVersion}: ${line}\n`))
      : undefined;
  const dockerd =
    plan.engineVersion && plan.engine !== "podman"
      ? (
          await engineOfVersion(plan.engineVersion, (line) =>
            process.stderr.write(`engine ${plan.engineVersion}: ${line}\n`),
          )
        ).dockerd
      : undefined;
  const cluster =
    plan.cluster && "lab" in plan.cluster
      ? { ...plan.cluster, onProgress: (line: string) => process.stderr.write(`${line}\n`) }
      : plan.cluster;
  // Not root, but allowed to use a local engine: the run goes to the engine's host as root, through a helper container.
  let notRoot: string | undefined;
  if (plan.helperApplies) {
    const throughHelper = await runThroughHelper(words, flags);
    if (typeof throughHelper === "number") return throughHelper;
    notRoot = throughHelper.notRoot;
  }
  const abort = new AbortController();
  const interrupts = watchInterrupts(abort, flags.runTimeout ? { runTimeoutMs: flags.runTimeout } : {});
  if (flags.engineGroups) {
    // The run that started this lane closes its stdin once it has every answer; closed before, that
    // run is gone (kill -9): stop the group under way, as its Ctrl-C would have, rather than finish it.
    let answered = true;
    // With that run gone its pipes are too: what the lane would still say goes nowhere, and its cleanup goes on.
    for (const stream of [process.stdout, process.stderr]) stream.on("error", () => undefined);
    process.stdin.once("end", () => {
      if (!answered) abort.abort("the end of the run that started it");
    });
    await runEngineGroups({
      groups: groupsOnStdin(),
      scenarios,
      session: {
        ...(dockerd ? { dockerd } : {}),
        ...(plan.faults.length ? { faults: plan.faults } : {}),
        ...(flags.probeImage ? { probeImage: flags.probeImage } : {}),
        ...(flags.pullProbe ? { pullProbe: pulledProbe(flags.pullProbe) } : {}),
        ...(plan.firewall === "firewalld" ? { firewalld: true } : {}),
      },
      conformance: {
        ...(flags.concurrency ? { concurrency: flags.concurrency } : {}),
        timeoutMs: flags.timeout,
        strict: Boolean(flags.strict),
        repeat: flags.repeat,
        signal: abort.signal,
        ...(flags.keepOnFailure ? { keepOnFailure: resolve(flags.keepOnFailure) } : {}),
      },
      signal: abort.signal,
      onGroupStart: () => (answered = false),
      onGroup: (report) => {
        answered = true;
        process.stdout.write(`${LANE_ANSWER}${JSON.stringify(report)}\n`);
      },
    });
    return interrupts.exitCode() ?? ExitCode.ok;
  }
  process.stderr.write(`docknet ${VERSION}: ${scenarios.length} scenario(s); preparing the engine...\n`);
  const session = await openSession({
    ...(cluster ? { cluster } : {}),
    ...(flags.driver ? { networkDriver: flags.driver } : {}),
    ...(flags.macvlanParent ? { macvlanParent: flags.macvlanParent } : {}),
    engine: plan.engine,
    ...(daemonConfig ? { daemonConfig } : {}),
    ...(dockerd ? { dockerd } : {}),
    ...(podman ? { podman } : {}),
    ...(plan.faults.length ? { faults: plan.faults } : {}),
    ...(flags.probeImage ? { probeImage: flags.probeImage } : {}),
    ...(flags.pullProbe ? { pullProbe: pulledProbe(flags.pullProbe) } : {}),
    ...(notRoot ? { notRoot } : {}),
    ...(plan.firewall === "firewalld" ? { firewalld: true } : {}),
  });
  try {
    if (abort.signal.aborted) return interrupts.exitCode()!;
    const vantage = vantageDescription(notRoot);
    process.stderr.write(
      `engine: ${session.engine.description}; run ${session.lab.runId}${flags.driver ? `; user-defined networks use the ${flags.driver} driver` : ""}\n`,
    );
    process.stderr.write(`profile: ${session.capabilities.profile.description}\n`);
    const caps = session.lab.probeCapabilities;
    if (caps.length)
      process.stderr.write(
        `probes: --cap-add ${caps.join(" --cap-add ")} (busybox's ping needs a raw socket; Podman 5 leaves NET_RAW out of its default capabilities)\n`,
      );
    process.stderr.write(`commands on the engine's host: ${vantage}\n`);
    if (session.capabilities.cluster) process.stderr.write(`multi-host: ${session.capabilities.cluster.description}\n`);
    const reporter = new ConsoleReporter({
      stream: process.stderr,
      total: scenarios.length * flags.repeat,
      ...(flags.color === false ? { color: false } : {}),
    });
    const outcome = await runConformance(session, {
      scenarios,
      ...(flags.concurrency ? { concurrency: flags.concurrency } : {}),
      timeoutMs: flags.timeout,
      strict: Boolean(flags.strict),
      repeat: flags.repeat,
      signal: abort.signal,
      onEvent: reporter.onEvent,
      ...(flags.keepOnFailure ? { keepOnFailure: resolve(flags.keepOnFailure) } : {}),
      explain: true,
    });
    const report = { ...outcome, vantage, ...(timeScale() > 1 ? { timeScale: timeScale() } : {}) };
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
    "--engine",
    "current",
    ...(flags.runTimeout ? ["--run-timeout", `${flags.runTimeout}ms`] : []),
    ...(flags.keepOnFailure ? ["--keep-on-failure", resolve(flags.keepOnFailure)] : []),
    ...(flags.driver ? ["--driver", flags.driver] : []),
    ...(flags.macvlanParent ? ["--macvlan-parent", flags.macvlanParent] : []),
    ...(flags.nodes ? ["--nodes", flags.nodes.join(",")] : []),
    ...(flags.fault ? ["--fault", ...flags.fault] : []),
    "--json",
    "-",
  ];
}

/**
 * When docknet is not root and a local engine answers: the run, as root on the
 * engine's host through a helper container (its exit code), or why not (the
 * run then goes on here, and what needs the engine's host skips saying so).
 */
async function runThroughHelper(words: string[], flags: RunFlags): Promise<number | { notRoot: string }> {
  // ssh:// nodes are reached with the user's own ssh client, keys and known_hosts: not from the helper.
  const sshNode = flags.nodes?.find(isSshAddress);
  if (sshNode && flags.helper && process.getuid?.() !== 0)
    return {
      notRoot: `docknet is not root, and the swarm node ${sshNode} is reached with your own ssh keys, not from a helper container`,
    };
  const route = await helperRoute(flags.helper);
  if (!route) return { notRoot: "" };
  if ("notRoot" in route) return route;
  const why = route.remote ? `the engine is on another host (${route.remote})` : "docknet is not root";
  process.stderr.write(
    `docknet ${VERSION}: ${why}: running as root on the engine's host through a privileged helper container (--no-helper refuses)\n`,
  );
  if (route.remote && flags.keepOnFailure)
    process.stderr.write(
      `docknet: --keep-on-failure: failure bundles stay on the engine's host, in ${resolve(flags.keepOnFailure)}\n`,
    );
  const color = flags.color !== false && wantsColor(process.stderr);
  let outcome: HelperOutcome;
  try {
    outcome = await runAsRootThroughEngine(route, helperRunArgs(words, flags), {
      why,
      color,
      probe: {
        ...(flags.probeImage ? { override: flags.probeImage } : {}),
        ...(flags.pullProbe ? { pull: pulledProbe(flags.pullProbe) } : {}),
      },
    });
  } finally {
    await route.close();
  }
  if (!outcome.ran) {
    process.stderr.write(`docknet: ${outcome.refused}: running here instead; what needs the engine's host skips\n`);
    return { notRoot: `${why}, and ${outcome.refused}` };
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

/** What planning reads: the scenarios, and the files the options name. */
async function planningInputs(): Promise<PlanningInputs> {
  const { ALL_SCENARIOS } = await import("../../scenarios/index.js");
  return {
    scenarios: ALL_SCENARIOS,
    outputProblem: outputPathProblem,
    directoryProblem: outputDirectoryProblem,
    failedIn: failedScenarioIds,
    daemonConfig: (path) => {
      const config = readDaemonConfig(path);
      refuseUnworkableDaemonConfig(path, config);
      return config;
    },
  };
}

/** The groups a lane is handed, one JSON line each on its stdin. */
async function* groupsOnStdin(): AsyncGenerator<EngineGroupPlan> {
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) if (line.trim()) yield JSON.parse(line) as EngineGroupPlan;
}
