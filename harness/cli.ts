#!/usr/bin/env node
import { mkdirSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { ConsoleReporter } from "../reports/console.js";
import { doctorConsoleText } from "../reports/doctor-console.js";
import { doctorJunitXml } from "../reports/doctor-junit.js";
import { doctorMarkdown } from "../reports/doctor-markdown.js";
import { doctorJsonReport, jsonReport, matrixJsonReport } from "../reports/json.js";
import { matrixText } from "../reports/matrix-console.js";
import { junitXml } from "../reports/junit.js";
import type { EngineChoice } from "./engine/engine.js";
import { EngineUnavailable, ExitCode, UsageError } from "./exit-codes.js";
import { audit } from "./doctor/audit.js";
import { ALL_CHECKS } from "./doctor/catalog.js";
import { doctorFailed, type FailOn } from "./doctor/doctor.js";
import { pingEngine, resolveCurrentDockerHost } from "./engine/docker-host.js";
import { selectEngine } from "./engine/select-engine.js";
import { cachedEngines, engineCacheDir, systemEngine } from "./engine/engine-binaries.js";
import { engineOfVersion, fetchEngine, parseEngineSpec } from "./engine/engine-fetch.js";
import { matrixFailed, runMatrix } from "./matrix.js";
import { runFailed } from "./results.js";
import { VERSION } from "./version.js";
import { isLabFault, type LabFault } from "./lab/faults.js";
import { interfaceNameProblem } from "./lab/macvlan-parent.js";
import { daemonConfigProblems, networkSettingProblems } from "./doctor/checks/daemon-settings.js";
import { listLabs, startMultiHostLab, stopLab, validateLabSize, type MultiHostLabState } from "./engine/multi-host-lab.js";
import { privateEnginePrerequisites } from "./engine/private-engine.js";
import type { ClusterChoice } from "./session.js";

/** A lab for people: its nodes, and how to reach each. */
function labText(lab: MultiHostLabState, answers?: string[]): string {
  const kept = lab.held ? "kept until docknet lab down" : `for run process ${lab.ownerPid}`;
  const lines = [`lab ${lab.id} (${kept}; bridge ${lab.subnet} in namespace ${lab.hubNetns})`];
  lab.nodes.forEach((node, i) => {
    const state = answers ? `  ${answers[i] === "ok" ? "answers" : `DOWN: ${answers[i]}`}` : "";
    lines.push(`  ${node.name}  ${node.role.padEnd(7)}  ${node.address.padEnd(12)}  DOCKER_HOST=${node.dockerHost}${state}`);
  });
  lines.push(`  run on it: docknet run overlay --lab ${lab.id}`);
  return `${lines.join("\n")}\n`;
}

/** "90s", "2m", "1500ms" or a bare number of seconds, as milliseconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!match) throw new InvalidArgumentError(`"${text}" is not a duration (try 90s, 2m or 1500ms)`);
  const value = Number(match[1]) * (match[2] === "ms" ? 1 : match[2] === "m" ? 60_000 : 1000);
  if (value <= 0) throw new InvalidArgumentError("a duration must be more than zero");
  return value;
}

export function parsePositiveInt(max: number) {
  return (text: string): number => {
    if (!/^\d+$/.test(text.trim()) || Number(text) < 1 || Number(text) > max) {
      throw new InvalidArgumentError(`"${text}" is not a whole number from 1 to ${max}`);
    }
    return Number(text);
  };
}

const EXIT_HELP = `
Exit codes:
  0    every selected scenario passed (skips allowed unless --strict)
  1    a scenario failed (or broke, or with --strict was skipped)
  2    usage error (unknown scenario or area, bad option)
  3    no usable engine (none answers, not root for a private engine, no busybox)
  4    internal error
  130  interrupted (Ctrl-C), after removing everything the run made
  143  terminated (SIGTERM), after the same cleanup`;

/** Words that select scenarios, from positional words and --area/--tag/--grep. */
function selectionWords(words: string[], options: { area?: string[]; tag?: string[]; grep?: string }): string[] {
  return [...words, ...(options.area ?? []), ...(options.tag ?? []).map((t) => `tag:${t}`), ...(options.grep ? [`/${options.grep}/`] : [])];
}

interface RunFlags {
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
  probeImage?: string;
  daemonConfig?: string;
  color?: boolean;
  lab?: string;
  managers?: number;
  nodes?: string[];
  driver?: string;
  macvlanParent?: string;
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

function writeOutput(target: string, content: string): void {
  if (target === "-") {
    process.stdout.write(content);
    return;
  }
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, content);
}

function labFault(name: string): LabFault {
  if (!isLabFault(name)) throw new UsageError(`unknown fault "${name}"`);
  return name;
}

function readDaemonConfig(path: string): Record<string, unknown> {
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
function refuseUnworkableDaemonConfig(path: string, config: Record<string, unknown>): void {
  const problems = [...daemonConfigProblems(config, undefined), ...networkSettingProblems(config)];
  if (problems.length) throw new UsageError(`--daemon-config ${path}: ${problems.join("; ")}`);
}

/**
 * Ctrl-C and SIGTERM stop scheduling new scenarios; the run then removes what
 * it made and exits 130 or 143. A second signal exits at once (docknet clean
 * removes what is left).
 */
function watchInterrupts(abort: AbortController): { exitCode: () => number | undefined } {
  let exitCode: number | undefined;
  const handle = (signal: NodeJS.Signals, code: number) => {
    process.once(signal, () => {
      exitCode = code;
      abort.abort();
      process.stderr.write(`\n${signal}: removing what this run made...\n`);
      process.once(signal, () => process.exit(code));
    });
  };
  handle("SIGINT", ExitCode.interrupted);
  handle("SIGTERM", ExitCode.terminated);
  return { exitCode: () => exitCode };
}

/**
 * The scenarios chosen by the words. Scenarios, the lab and testcontainers load
 * only for the commands that use them: `doctor` and `--help` start in a fraction
 * of the time.
 */
async function chosenScenarios(words: string[], flags: { area?: string[]; tag?: string[]; grep?: string }) {
  const [{ ALL_SCENARIOS }, { selectScenarios }] = await Promise.all([import("../scenarios/index.js"), import("./selection.js")]);
  return selectScenarios(ALL_SCENARIOS, selectionWords(words, flags));
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
    ...(flags.daemonConfig ? ["--daemon-config", flags.daemonConfig] : []),
  ];
}

async function matrixAction(words: string[], flags: RunFlags, specs: string[]): Promise<number> {
  if (flags.engine === "current" || flags.engineVersion) throw new UsageError("--matrix runs a private engine of each version; drop --engine current and --engine-version");
  for (const spec of specs) parseEngineSpec(spec);
  const scenarios = await chosenScenarios(words, flags);
  if (scenarios.length === 0) throw new UsageError("the selection matches no scenario (see: docknet list)");
  const abort = new AbortController();
  const interrupts = watchInterrupts(abort);
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
  return matrixFailed(matrix, Boolean(flags.strict)) ? ExitCode.failed : ExitCode.ok;
}

/** With --driver, only the scenarios that hold for any network driver run (tag driver-generic). */
function forDriver<T extends { tags: readonly string[]; id: string }>(scenarios: readonly T[], driver: string | undefined): readonly T[] {
  if (!driver) return scenarios;
  const generic = scenarios.filter((s) => s.tags.includes("driver-generic"));
  const dropped = scenarios.length - generic.length;
  if (dropped > 0) process.stderr.write(`--driver ${driver}: ${generic.length} driver-generic scenario(s) of the ${scenarios.length} selected (docknet list tag:driver-generic)\n`);
  return generic;
}

async function runAction(words: string[], flags: RunFlags): Promise<number> {
  if (flags.matrix) return matrixAction(words, flags, flags.matrix);
  const scenarios = forDriver(await chosenScenarios(words, flags), flags.driver);
  const { explainFailures, openSession, runConformance } = await import("./session.js");
  if (scenarios.length === 0) throw new UsageError("the selection matches no scenario (see: docknet list)");
  if (flags.daemonConfig && flags.engine === "current") throw new UsageError("--daemon-config needs a private engine (--engine private)");
  const daemonConfig = flags.daemonConfig ? readDaemonConfig(flags.daemonConfig) : undefined;
  if (daemonConfig) refuseUnworkableDaemonConfig(flags.daemonConfig!, daemonConfig);
  const abort = new AbortController();
  const interrupts = watchInterrupts(abort);
  process.stderr.write(`docknet ${VERSION}: ${scenarios.length} scenario(s); preparing the engine...\n`);
  if (flags.engineVersion && flags.engine === "current") throw new UsageError("--engine-version runs a private engine of that version; it cannot be combined with --engine current");
  const dockerd = flags.engineVersion ? (await engineOfVersion(flags.engineVersion, (line) => process.stderr.write(`engine ${flags.engineVersion}: ${line}\n`))).dockerd : undefined;
  const cluster = clusterChoice(flags);
  const session = await openSession({
    ...(cluster ? { cluster } : {}),
    ...(flags.driver ? { networkDriver: flags.driver } : {}),
    ...(flags.macvlanParent ? { macvlanParent: flags.macvlanParent } : {}),
    engine: daemonConfig || dockerd ? "private" : flags.engine,
    ...(daemonConfig ? { daemonConfig } : {}),
    ...(dockerd ? { dockerd } : {}),
    ...(flags.fault ? { faults: flags.fault.map(labFault) } : {}),
    ...(flags.probeImage ? { probeImage: flags.probeImage } : {}),
  });
  try {
    if (abort.signal.aborted) return interrupts.exitCode()!;
    process.stderr.write(`engine: ${session.engine.description}; run ${session.lab.runId}${flags.driver ? `; user-defined networks use the ${flags.driver} driver` : ""}\n`);
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
    });
    const report = abort.signal.aborted ? outcome : await explainFailures(outcome, session.engine.dockerHost).catch(() => outcome);
    reporter.finish(report);
    if (abort.signal.aborted) return interrupts.exitCode()!;
    if (flags.junit) writeOutput(flags.junit, junitXml(report));
    if (flags.json) writeOutput(flags.json, jsonReport(report));
    return runFailed(report) ? ExitCode.failed : ExitCode.ok;
  } finally {
    await session.close();
  }
}

interface DoctorFlags {
  engine: EngineChoice;
  check?: string[];
  failOn: FailOn;
  json?: string;
  junit?: string;
  markdown?: string;
  daemonConfig?: string;
  verbose?: boolean;
  color?: boolean;
}

const DOCTOR_EXIT_HELP = `
Exit codes:
  0    no finding at or above --fail-on (default: error)
  1    a finding at or above --fail-on, or a check that broke
  2    usage error (unknown check id, bad option)
  3    the engine named (DOCKER_HOST, a context, --engine current) does not answer,
       or a private engine cannot start
  4    internal error`;

async function doctorAction(flags: DoctorFlags): Promise<number> {
  const wanted = (flags.check ?? []).map((id) => id.toUpperCase());
  const unknown = wanted.filter((id) => !ALL_CHECKS.some((c) => c.id === id));
  if (unknown.length) throw new UsageError(`unknown check ${unknown.join(", ")} (checks: ${ALL_CHECKS.map((c) => c.id).join(" ")})`);
  const checks = wanted.length ? ALL_CHECKS.filter((c) => wanted.includes(c.id)) : ALL_CHECKS;
  if (flags.daemonConfig && flags.engine !== "private") throw new UsageError("--daemon-config needs --engine private (docknet never changes an existing engine)");
  const daemonConfig = flags.daemonConfig ? readDaemonConfig(flags.daemonConfig) : undefined;
  let dockerHost: string | undefined;
  let stop = async () => {};
  if (flags.engine === "private") {
    process.stderr.write("docknet doctor: starting a private engine to audit...\n");
    const engine = await selectEngine("private", daemonConfig ? { daemonConfig } : {});
    dockerHost = engine.dockerHost;
    stop = () => engine.stop();
  } else {
    const current = resolveCurrentDockerHost();
    const problem = await pingEngine(current.host);
    if (problem !== undefined) {
      // An engine the user named must answer; only a missing default engine means "audit this machine alone".
      if (flags.engine === "current" || current.source !== "default socket") {
        throw new EngineUnavailable(`no engine answers at ${current.host} (from ${current.source}): ${problem}`);
      }
      process.stderr.write(`docknet doctor: no engine answers at ${current.host}; auditing this machine only (engine checks are skipped)\n`);
    }
    dockerHost = current.host;
  }
  try {
    const report = await audit({ dockerHost, checks, version: VERSION });
    process.stderr.write(doctorConsoleText(report, { stream: process.stderr, verbose: Boolean(flags.verbose), ...(flags.color === false ? { color: false } : {}) }));
    if (flags.json) writeOutput(flags.json, doctorJsonReport(report));
    if (flags.junit) writeOutput(flags.junit, doctorJunitXml(report));
    if (flags.markdown) writeOutput(flags.markdown, doctorMarkdown(report));
    return doctorFailed(report.summary, flags.failOn) ? ExitCode.failed : ExitCode.ok;
  } finally {
    await stop();
  }
}

async function listCommand(words: string[], flags: { area?: string[]; tag?: string[]; grep?: string; json?: boolean }): Promise<number> {
  const scenarios = await chosenScenarios(words, flags);
  if (flags.json) {
    const rows = scenarios.map((s) => ({
      id: s.id,
      title: s.title,
      area: s.area,
      doc: s.doc,
      tags: s.tags,
      requires: s.requires.map((r) => r.name),
      exclusive: Boolean(s.exclusive),
    }));
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return ExitCode.ok;
  }
  for (const s of scenarios) {
    const requires = s.requires.length ? `  [needs: ${s.requires.map((r) => r.name).join(", ")}]` : "";
    const alone = s.exclusive ? "  [runs alone]" : "";
    process.stdout.write(`${s.id.padEnd(8)} ${s.area.padEnd(15)} ${s.title}\n${" ".repeat(25)}doc: ${s.doc}${requires}${alone}\n`);
  }
  process.stderr.write(`${scenarios.length} scenario(s)\n`);
  return ExitCode.ok;
}

export function buildProgram(): Command {
  const program = new Command("docknet")
    .description("Proves, on a real Docker engine, that Docker networking behaves as documented — and explains why when it does not.")
    .version(VERSION)
    // Usage errors are one line, like every other error docknet prints.
    .configureOutput({
      writeErr: (text) => process.stderr.write(text),
      outputError: (text, write) => write(`docknet: ${text.trim().replace(/^error: /, "")} (see: docknet --help)\n`),
    })
    .exitOverride()
    .addHelpText("after", EXIT_HELP);

  const selection = (command: Command) =>
    command
      .argument("[select...]", 'scenario ids, areas, "tag:NAME" or "/REGEX/"; a leading ! excludes (e.g. dns !DNS-03)')
      .option("--area <area...>", "only these areas")
      .option("--tag <tag...>", "only scenarios with these tags")
      .option("--grep <regex>", "only scenarios whose id or title matches");

  selection(program.command("run").description("run conformance scenarios on an engine and report verdicts with evidence"))
    .addOption(
      new Option("--engine <engine>", "auto: the current engine if one answers, else a private one; current; private")
        .choices(["auto", "current", "private"])
        .default("auto"),
    )
    .option("--engine-version <version>", "a private engine of this version or Debian suite (20.10, 26, 28, sid); fetched once from Debian's archive")
    .option("--matrix <versions>", "run on a private engine of each version and print scenario x engine, differences first (e.g. 20.10,26,28)", (text: string) => {
      const specs = text.split(",").map((v) => v.trim()).filter(Boolean);
      if (specs.length < 2) throw new InvalidArgumentError("a matrix needs at least two engine versions, comma-separated (e.g. 20.10,28)");
      return specs;
    })
    .option("--concurrency <n>", "scenarios run at once", parsePositiveInt(64), 4)
    .option("--timeout <duration>", "time allowed per scenario (90s, 2m, 1500ms)", parseDuration, 90_000)
    .option("--repeat <n>", "run each scenario n times (to catch flakiness)", parsePositiveInt(100), 1)
    .option("--strict", "count skipped scenarios as failures")
    .option("--junit <file>", "write a JUnit XML report (one testsuite per area)")
    .option("--json <file>", "write the results as JSON (- for stdout)")
    .option("--probe-image <image>", "use this local image instead of building the busybox probe")
    .option("--daemon-config <file>", "daemon.json for a private engine (implies --engine private)")
    .option("--lab <hosts|id>", "run the multi-host scenarios on a lab: a number brings one up for the run (2-9 hosts) and takes it down; an id uses one docknet lab up made")
    .option("--managers <n>", "with --lab N: how many of the hosts are managers", parsePositiveInt(9))
    .option("--driver <name>", "a conformance run for a network driver (a plugin): the driver-generic scenarios, on networks of that driver")
    .option(
      "--macvlan-parent <iface>",
      "put macvlan networks on this interface of the engine's host instead of a link docknet makes (never by default); " +
        "its LAN sees ARP and multicast from docknet's containers in 10.216.0.0/24, nothing else; scenarios that look from the LAN's side skip",
      (name: string) => {
        const problem = interfaceNameProblem(name);
        if (problem) throw new InvalidArgumentError(problem);
        return name;
      },
    )
    .option("--nodes <hosts>", "run the multi-host scenarios on your swarm: DOCKER_HOST of each node, a manager first, comma-separated", (text: string) =>
      text.split(",").map((h) => h.trim()).filter(Boolean),
    )
    .option("--no-color", "no colours in console output")
    // For docknet's own tests: build the lab wrongly in a known way (harness/lab/faults.ts).
    .addOption(new Option("--fault <name...>").hideHelp())
    // Set by docknet itself on the runs it starts for scenarios that need a daemon configuration.
    .addOption(new Option("--engine-started-for-scenarios").hideHelp())
    .addHelpText(
      "after",
      `
Examples:
  docknet run                                  every scenario; a private engine when none answers
  docknet run --junit reports/junit.xml        for CI: JUnit for the test view, exit 1 on failure
  docknet run dns                              only the DNS area
  docknet run UB-01 ISO-01 '!DNS-03'           by id, excluding one
  docknet run --engine private --strict        on a throwaway dockerd; skips count as failures
  docknet run --engine-version 28              on a private Docker 28 (fetched once from Debian)
  docknet run --matrix 20.10,26,28             upgrade rehearsal: what changes between versions
  docknet run overlay --lab 3                  swarm and overlay across 3 engines docknet brings up
  docknet run --driver weaveworks/net-plugin:2.8.1   a plugin's conformance: connectivity, DNS, isolation, connect
  docknet run macvlan --engine current --macvlan-parent eth1   macvlan on your own interface (as root)
  docknet run overlay --nodes unix:///a.sock,tcp://b:2376   on your own swarm (a manager first)

docknet labels everything it creates (io.docknet.run=<id>) and removes it on
success, failure, timeout and Ctrl-C. It never changes an existing engine's
networks; a private engine lives in its own network namespace.
${EXIT_HELP}`,
    )
    .action(async (words: string[], flags: RunFlags) => {
      process.exitCode = await runAction(words, flags);
    });

  selection(program.command("list").description("list scenarios: id, area, title, doc section, requirements"))
    .option("--json", "as JSON on stdout")
    .action(async (words: string[], flags: { area?: string[]; tag?: string[]; grep?: string; json?: boolean }) => {
      process.exitCode = await listCommand(words, flags);
    });

  program
    .command("doctor")
    .description("audit the engine's host: forwarding, firewall, addresses, MTU, DNS, daemon.json, kernel, exposure; reads only")
    .addOption(
      new Option("--engine <engine>", "auto: the current engine (or this machine alone if none answers); current; private: a throwaway dockerd")
        .choices(["auto", "current", "private"])
        .default("auto"),
    )
    .option("--check <id...>", "only these checks (e.g. HOST-01 FW-05)")
    .addOption(new Option("--fail-on <severity>", "exit 1 on findings of this severity or worse").choices(["error", "warn", "never"]).default("error"))
    .option("--json <file>", "write the findings as JSON (- for stdout)")
    .option("--junit <file>", "write JUnit XML: one testcase per check; errors fail")
    .option("--markdown <file>", "write a Markdown summary (- for stdout; e.g. >> $GITHUB_STEP_SUMMARY)")
    .option("--daemon-config <file>", "daemon.json for --engine private")
    .option("--verbose", "also list the checks that found nothing wrong")
    .option("--no-color", "no colours in console output")
    .addHelpText(
      "after",
      `
Examples:
  sudo docknet doctor                          audit this host's engine
  docknet doctor --fail-on warn --junit doctor.xml   a CI gate
  docknet doctor --markdown - >> "$GITHUB_STEP_SUMMARY"

As root on the engine's host, docknet reads the engine's own network namespace
(sysctls, iptables, links, routes), daemon.json and the kernel configuration.
For a remote engine, or without root, those checks are reported as skipped,
never as passed. The doctor never changes the host.
${DOCTOR_EXIT_HELP}`,
    )
    .action(async (flags: DoctorFlags) => {
      process.exitCode = await doctorAction(flags);
    });

  const engineCommand = program.command("engine").description("the Docker engines docknet can run privately: the system's and those fetched from Debian's archive");
  engineCommand
    .command("fetch")
    .description("put a dockerd of a Debian suite or version into the cache (checked by starting it); idempotent")
    .argument("<version...>", "Debian suites (trixie, sid, stable, unstable) or engine versions (26, 28, 28.5)")
    .option("--archive <url>", "a Debian mirror (default: $DOCKNET_DEBIAN_ARCHIVE or http://deb.debian.org/debian)")
    .option("--no-verify", "do not start the engine once before caching it")
    .action(async (specs: string[], flags: { archive?: string; verify: boolean }) => {
      for (const spec of specs) {
        const { engine, how } = await fetchEngine(spec, {
          ...(flags.archive ? { archive: flags.archive } : {}),
          verify: flags.verify,
          onProgress: (line) => process.stderr.write(`${spec}: ${line}\n`),
        });
        const said = { fetched: "fetched", cached: "already cached", system: "is the system's own dockerd" }[how];
        process.stderr.write(`${spec}: dockerd ${engine.version} ${said}${engine.suite ? ` (${engine.suite})` : ""}: ${engine.dockerd}\n`);
      }
    });
  engineCommand
    .command("info")
    .description("what docknet detects of an engine: version, drivers, kernel features, sysctls, iptables backend, root")
    .addOption(
      new Option("--engine <engine>", "auto: the current engine, else a private one; current; private").choices(["auto", "current", "private"]).default("auto"),
    )
    .option("--json", "as JSON on stdout")
    .action(async (flags: { engine: EngineChoice; json?: boolean }) => {
      const [{ default: Docker }, { detectCapabilities }, { dockerodeOptions }, { engineInfoText }, { engineHostNamespace }] = await Promise.all([
        import("dockerode"),
        import("./capabilities.js"),
        import("./engine/docker-host.js"),
        import("../reports/engine-info.js"),
        import("./engine/current-engine-outside.js"),
      ]);
      const engine = await selectEngine(flags.engine);
      try {
        // The engine's host is read from the namespace its dockerd runs in, when docknet can enter it.
        const located = await engineHostNamespace(engine);
        const hostNetns = "netns" in located ? { hostNetns: located.netns } : {};
        const facts = await detectCapabilities(new Docker(dockerodeOptions(engine.dockerHost)), { ...engine, ...hostNetns });
        if (flags.json) process.stdout.write(`${JSON.stringify({ description: engine.description, ...facts }, null, 2)}\n`);
        else process.stdout.write(engineInfoText(engine.description, facts));
      } finally {
        await engine.stop();
      }
    });
  engineCommand
    .command("list")
    .description("the system's dockerd and every cached one, with versions and whether each is intact")
    .option("--json", "as JSON on stdout")
    .action(async (flags: { json?: boolean }) => {
      const system = await systemEngine();
      const engines = [...(system ? [system] : []), ...cachedEngines()];
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(engines, null, 2)}\n`);
        return;
      }
      for (const e of engines) {
        const status = e.corrupt ? `CORRUPT: ${e.corrupt} (docknet engine fetch ${e.version.split(".").slice(0, 2).join(".")} replaces it)` : "ok";
        process.stdout.write(`${e.version.padEnd(22)} ${(e.source === "system" ? "system" : e.suite ?? "cache").padEnd(9)} ${status.padEnd(4)} ${e.dockerd}\n`);
      }
      process.stderr.write(`${engines.length} engine(s); cache: ${engineCacheDir()}\n`);
    });

  const labCommand = program
    .command("lab")
    .description("multi-host labs: private engines in their own network namespaces, on one bridge, formed into a swarm")
    .addHelpText(
      "after",
      `
A lab is several dockerd on this machine, each in its own network namespace with
its own address on a lab bridge (10.214.0.0/24, inside a namespace of its own:
nothing of it is on the host's network), formed into one swarm. Root is needed.

  docknet lab up --hosts 3                     bring a lab up; prints each node's DOCKER_HOST
  docknet run overlay --lab <id>               run the multi-host scenarios on it
  DOCKER_HOST=<node1> docker node ls           use it like any swarm
  docknet lab down                             remove it: engines, namespaces, veths, bridge, files`,
    );
  labCommand
    .command("up")
    .description("bring a lab up and keep it until docknet lab down")
    .requiredOption("--hosts <n>", "number of engines (2-9)", parsePositiveInt(9))
    .option("--managers <n>", "how many of them are swarm managers", parsePositiveInt(9), 1)
    .option("--engine-version <version>", "engines of this version or Debian suite (fetched once); the system's dockerd when absent")
    .option("--json", "print the lab as JSON on stdout")
    .action(async (flags: { hosts: number; managers: number; engineVersion?: string; json?: boolean }) => {
      const invalid = validateLabSize(flags.hosts, flags.managers);
      if (invalid) throw new UsageError(invalid);
      const dockerd = flags.engineVersion ? (await engineOfVersion(flags.engineVersion, (line) => process.stderr.write(`engine ${flags.engineVersion}: ${line}\n`))).dockerd : undefined;
      const missing = await privateEnginePrerequisites(dockerd);
      if (missing) throw new EngineUnavailable(missing);
      const abort = new AbortController();
      const interrupts = watchInterrupts(abort);
      const started = performance.now();
      const lab = await startMultiHostLab({
        hosts: flags.hosts,
        managers: flags.managers,
        held: true,
        ...(dockerd ? { dockerd } : {}),
        onProgress: (line) => process.stderr.write(`${line}\n`),
      });
      if (abort.signal.aborted) {
        await lab.stop();
        process.exitCode = interrupts.exitCode()!;
        return;
      }
      process.stderr.write(`lab ${lab.state.id} up in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
      if (flags.json) process.stdout.write(`${JSON.stringify(lab.state, null, 2)}\n`);
      else process.stdout.write(labText(lab.state));
    });
  labCommand
    .command("status")
    .description("the labs on this machine: nodes, addresses, DOCKER_HOSTs, and whether each engine answers")
    .option("--json", "as JSON on stdout")
    .action(async (flags: { json?: boolean }) => {
      const labs = listLabs();
      const rows = await Promise.all(labs.map(async (lab) => ({ ...lab, answers: await Promise.all(lab.nodes.map(async (n) => (await pingEngine(n.dockerHost, 2000)) ?? "ok")) })));
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        return;
      }
      for (const lab of rows) process.stdout.write(labText(lab, lab.answers));
      process.stderr.write(`${labs.length} lab(s)\n`);
    });
  labCommand
    .command("down")
    .description("remove labs: every engine, namespace, veth, bridge and run directory (all labs when no id is given)")
    .argument("[id...]", "the labs to remove (docknet lab status lists them)")
    .action(async (ids: string[]) => {
      const labs = listLabs();
      const unknown = ids.filter((id) => !labs.some((l) => l.id === id));
      if (unknown.length) throw new UsageError(`no lab ${unknown.join(", ")} (labs: ${labs.map((l) => l.id).join(", ") || "none"})`);
      const chosen = ids.length ? labs.filter((l) => ids.includes(l.id)) : labs;
      for (const lab of chosen) {
        await stopLab(lab);
        process.stderr.write(`lab ${lab.id} removed\n`);
      }
      if (chosen.length === 0) process.stderr.write("no lab is up\n");
    });

  program
    .command("clean")
    .description("remove leftovers of dead runs: private engines, labs whose run died, outside hosts left beside the current engine, and labelled containers and networks on the current engine")
    .option("--all", "also remove resources of runs that may still be alive")
    .action(async (flags: { all?: boolean }) => {
      const { cleanLeftovers } = await import("./clean.js");
      const report = await cleanLeftovers({ all: Boolean(flags.all) });
      process.stderr.write(`${report}\n`);
    });

  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === "number" ? process.exitCode : ExitCode.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.code === "commander.helpDisplayed" || error.code === "commander.version" || error.code === "commander.help"
        ? ExitCode.ok
        : ExitCode.usage;
    }
    if (error instanceof UsageError) {
      process.stderr.write(`docknet: ${error.message}\n`);
      return ExitCode.usage;
    }
    if (error instanceof EngineUnavailable) {
      process.stderr.write(`docknet: ${error.message}\n`);
      return ExitCode.noEngine;
    }
    process.stderr.write(`docknet: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return ExitCode.internal;
  }
}

// Run only as the program (npx docknet, node dist/harness/cli.js), not when imported by tests.
if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv).then((code) => process.exit(code));
}
