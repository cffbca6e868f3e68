#!/usr/bin/env node
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import type { DoctorFlags } from "./commands/doctor.js";
import type { RunFlags } from "./commands/run.js";
import type { EngineChoice } from "./engine/engine.js";
import { EngineUnavailable, ExitCode, UsageError } from "./exit-codes.js";
import { interfaceNameProblem } from "./lab/macvlan-parent.js";
import { VERSION } from "./version.js";

// Every command's module loads only when that command runs: --version, --help and list load no Docker client.

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
  3    no usable engine (none answers, permission denied, not Docker, not root for a
       private engine, no busybox), or the engine died mid-run
  4    internal error
  130  interrupted (Ctrl-C), after removing everything the run made
  143  terminated (SIGTERM), after the same cleanup`;

const DOCTOR_EXIT_HELP = `
Exit codes:
  0    no finding at or above --fail-on (default: error)
  1    a finding at or above --fail-on, or a check that broke
  2    usage error (unknown check id, bad option)
  3    the engine named (DOCKER_HOST, a context, --engine current) does not answer,
       or a private engine cannot start
  4    internal error`;

export function buildProgram(): Command {
  const program = new Command("docknet")
    .description(
      "Proves, on a real Docker engine, that Docker networking behaves as documented — and explains why when it does not.",
    )
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

  selection(
    program.command("run").description("run conformance scenarios on an engine and report verdicts with evidence"),
  )
    .addOption(
      new Option(
        "--engine <engine>",
        "auto: the current engine if one answers, else a private one; current; private; podman: a private Podman (Debian's podman, netavark, aardvark-dns) serving Docker's API; rootless: a private dockerd run rootless (RootlessKit, slirp4netns) by a user docknet makes and removes",
      )
        .choices(["auto", "current", "private", "podman", "rootless"])
        .default("auto"),
    )
    .option(
      "--engine-version <version>",
      "a private engine of this version or Debian suite (20.10, 26, 28, sid; with --engine podman, Podman's: 5.4, trixie); fetched once from Debian's archive",
    )
    .addOption(
      new Option(
        "--firewall <iptables>",
        "the firewall of a private dockerd's host: iptables-nft (Debian's default), iptables-legacy (both ship in Debian's iptables), or firewalld (on a D-Bus of the engine's own)",
      ).choices(["iptables-nft", "iptables-legacy", "firewalld"]),
    )
    .option(
      "--profile <profile>",
      "the engine profile to start privately: podman (the machine's), podman-5.4 or podman-trixie (fetched), docker (the version at hand), docker-28, docker-20.10, docker-sid, rootless, docker-28-rootless (a user docknet makes runs dockerd-rootless.sh)",
    )
    .option(
      "--matrix <profiles>",
      "run on a private engine of each profile and print scenario x engine, differences first (e.g. 20.10,26,28 or 28,podman)",
      (text: string) => {
        const specs = text
          .split(",")
          .map((v) => v.trim())
          .filter(Boolean);
        if (specs.length < 2)
          throw new InvalidArgumentError(
            "a matrix needs at least two engine profiles, comma-separated (e.g. 20.10,28 or 28,podman)",
          );
        return specs;
      },
    )
    .option(
      "--concurrency <n>",
      "scenarios run at once (default: 4; 1 on Podman, whose aardvark-dns drops lookups while another network is made)",
      parsePositiveInt(64),
    )
    .option("--timeout <duration>", "time allowed per scenario (90s, 2m, 1500ms)", parseDuration, 90_000)
    .option("--repeat <n>", "run each scenario n times (to catch flakiness)", parsePositiveInt(100), 1)
    .option(
      "--keep-on-failure <dir>",
      "for each failed or broken scenario, keep a bundle in DIR/<run>/<id>/ before teardown: inspect of its containers and networks, what each container sees, the engine host's firewall, the engine's log lines",
    )
    .option(
      "--rerun-failed <report>",
      "run only the scenarios that failed or broke in an earlier run's --json or --junit report",
    )
    .option(
      "--run-timeout <duration>",
      "a limit for the whole run (20m): reached, it ends as Ctrl-C does, keeping every verdict, and exits 1",
      parseDuration,
    )
    .option("--strict", "count skipped scenarios as failures")
    .option("--junit <file>", "write a JUnit XML report (one testsuite per area)")
    .option("--json <file>", "write the results as JSON (- for stdout)")
    .option(
      "--html <file>",
      "write one self-contained HTML page: verdicts by area, failures with evidence, skips by reason, engine facts (the matrix table with --matrix)",
    )
    .option(
      "--markdown <file>",
      "write a Markdown summary: counts, failures with evidence and likely cause, skips by reason, engine facts (- for stdout; e.g. >> $GITHUB_STEP_SUMMARY)",
    )
    .option(
      "--conformance <file>",
      "write a conformance report per engine profile (Gateway API's ConformanceReport shape): the profile, results by area, unsupported features, documented differences, and a verdict (YAML; JSON when FILE ends in .json)",
    )
    .option("--probe-image <image>", "use this local image instead of building the busybox probe")
    .option(
      "--pull-probe [image]",
      "without a static busybox on this host: let docknet pull a busybox image for its probe (default: the pinned busybox:1.37.0@sha256:bdf57e52…); checked for the applets the probe runs. Never pulled otherwise",
    )
    .option("--daemon-config <file>", "daemon.json for a private engine (implies --engine private)")
    .option(
      "--lab <hosts|id>",
      "run the multi-host scenarios on a lab: a number brings one up for the run (2-9 hosts) and takes it down; an id uses one docknet lab up made",
    )
    .option(
      "--kernel-vm",
      "run in a VM with Debian's stock kernel (fetched once into the cache), on a private engine there: for what this machine's kernel lacks (ipvlan, 802.1Q, dummy, IPVS, ESP); KVM when /dev/kvm is usable, else emulated",
    )
    .option("--managers <n>", "with --lab N: how many of the hosts are managers", parsePositiveInt(9))
    .option(
      "--driver <name>",
      "a conformance run for a network driver (a plugin): the driver-generic scenarios, on networks of that driver",
    )
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
    .option(
      "--nodes <hosts>",
      "run the multi-host scenarios on your swarm: DOCKER_HOST of each node, a manager first, comma-separated",
      (text: string) =>
        text
          .split(",")
          .map((h) => h.trim())
          .filter(Boolean),
    )
    .option(
      "--no-helper",
      "when not root, or the engine is on another host: never run as root on the engine's host through a privileged helper container (what needs that host then skips)",
    )
    .option("--no-color", "no colours in console output")
    // For docknet's own tests: build the lab wrongly in a known way (harness/lab/faults.ts).
    .addOption(new Option("--fault <name...>").hideHelp())
    // Set by docknet itself on the lanes it starts for scenarios that need a daemon configuration.
    .addOption(new Option("--engine-groups").hideHelp())
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
  docknet run --engine podman --engine-version 5.4   on a private Podman 5.4 (Debian trixie's, fetched once)
  docknet run --matrix docker-28,rootless,podman --conformance c.yaml
                                               profiles: what differs, documented or not; a verdict each
  docknet run overlay --lab 3                  swarm and overlay across 3 engines docknet brings up
  docknet run --kernel-vm ipvlan               on Debian's stock kernel in a VM (ipvlan, 802.1Q, IPVS, ESP)
  docknet run --driver weaveworks/net-plugin:2.8.1   a plugin's conformance: connectivity, DNS, isolation, connect
  docknet run macvlan --engine current --macvlan-parent eth1   macvlan on your own interface (as root)
  docknet run overlay --nodes unix:///a.sock,tcp://b:2376   on your own swarm (a manager first)
  DOCKER_HOST=ssh://me@box docknet run         an engine on another host, through your own ssh

docknet labels everything it creates (io.docknet.run=<id>) and removes it on
success, failure, timeout and Ctrl-C. It never changes an existing engine's
networks; a private engine lives in its own network namespace.

Not root, but in the docker group, or an engine on another host? The run goes
to the engine's host as root through one privileged helper container (what the
docker group already allows; docknet's runtime is shipped there when its files
are not on that host), and the header says so; --no-helper refuses it, and what
needs the engine's host then skips. Without a static busybox, --pull-probe lets the
engine pull a pinned busybox image for the probe; nothing is pulled otherwise.
${EXIT_HELP}`,
    )
    .action(async (words: string[], flags: RunFlags) => {
      const { runAction } = await import("./commands/run.js");
      process.exitCode = await runAction(words, flags);
    });

  selection(program.command("list").description("list scenarios: id, area, title, doc section, requirements"))
    .option("--json", "as JSON on stdout")
    .action(async (words: string[], flags: { area?: string[]; tag?: string[]; grep?: string; json?: boolean }) => {
      const { listCommand } = await import("./commands/list.js");
      process.exitCode = await listCommand(words, flags);
    });

  program
    .command("doctor")
    .description(
      "audit the engine's host: forwarding, firewall, addresses, MTU, DNS, daemon.json, kernel, exposure; reads only",
    )
    .addOption(
      new Option(
        "--engine <engine>",
        "auto: the current engine (or this machine alone if none answers); current; private: a throwaway dockerd",
      )
        .choices(["auto", "current", "private"])
        .default("auto"),
    )
    .option("--check <id...>", "only these checks (e.g. D-HOST-01 D-FW-05)")
    .addOption(
      new Option("--fail-on <severity>", "exit 1 on findings of this severity or worse")
        .choices(["error", "warn", "never"])
        .default("error"),
    )
    .option("--json <file>", "write the findings as JSON (- for stdout)")
    .option("--junit <file>", "write JUnit XML: one testcase per check; errors fail")
    .option("--markdown <file>", "write a Markdown summary (- for stdout; e.g. >> $GITHUB_STEP_SUMMARY)")
    .option("--daemon-config <file>", "daemon.json for --engine private")
    .addOption(
      new Option(
        "--firewall <iptables>",
        "for --engine private: its host's firewall, iptables-nft (Debian's default), iptables-legacy or firewalld",
      ).choices(["iptables-nft", "iptables-legacy", "firewalld"]),
    )
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
      const { doctorAction } = await import("./commands/doctor.js");
      process.exitCode = await doctorAction(flags);
    });

  const engineCommand = program
    .command("engine")
    .description("the Docker engines docknet can run privately: the system's and those fetched from Debian's archive");
  engineCommand
    .command("fetch")
    .description("put a dockerd of a Debian suite or version into the cache (checked by starting it); idempotent")
    .argument("<version...>", "Debian suites (trixie, sid, stable, unstable) or engine versions (26, 28, 28.5)")
    .option("--archive <url>", "a Debian mirror (default: $DOCKNET_DEBIAN_ARCHIVE or http://deb.debian.org/debian)")
    .option("--no-verify", "do not start the engine once before caching it")
    .action(async (specs: string[], flags: { archive?: string; verify: boolean }) => {
      const { engineFetchAction } = await import("./commands/engine.js");
      await engineFetchAction(specs, flags);
    });
  engineCommand
    .command("kernel")
    .description(
      "put the kernel of docknet's VM (run --kernel-vm) into the cache: Debian's stock kernel, its networking modules indexed; idempotent",
    )
    .option("--archive <url>", "a Debian mirror (default: $DOCKNET_DEBIAN_ARCHIVE or http://deb.debian.org/debian)")
    .action(async (flags: { archive?: string }) => {
      const { engineKernelAction } = await import("./commands/engine.js");
      await engineKernelAction(flags);
    });
  engineCommand
    .command("compose")
    .description(
      "put Debian's Docker Compose v2 into the cache, for the compose scenarios (trixie: 2.26, sid: 2.40); idempotent",
    )
    .argument("[suite]", "trixie (default), forky or sid")
    .option("--archive <url>", "a Debian mirror (default: $DOCKNET_DEBIAN_ARCHIVE or http://deb.debian.org/debian)")
    .action(async (suite: string | undefined, flags: { archive?: string }) => {
      const { engineComposeAction } = await import("./commands/engine.js");
      await engineComposeAction(suite, flags);
    });
  engineCommand
    .command("podman")
    .description(
      "put a Podman of a Debian suite or version into the cache for --engine podman --engine-version (trixie: 5.4), with its helpers and libraries; idempotent",
    )
    .argument("[spec...]", "a suite (trixie, the default; sid) or a Podman version (5.4)")
    .option("--archive <url>", "a Debian mirror (default: $DOCKNET_DEBIAN_ARCHIVE or http://deb.debian.org/debian)")
    .action(async (specs: string[], flags: { archive?: string }) => {
      const { enginePodmanAction } = await import("./commands/engine.js");
      await enginePodmanAction(specs.length ? specs : ["trixie"], flags);
    });
  engineCommand
    .command("info")
    .description(
      "what docknet detects of an engine: version, drivers, kernel features, sysctls, iptables backend, root",
    )
    .addOption(
      new Option("--engine <engine>", "auto: the current engine, else a private one; current; private")
        .choices(["auto", "current", "private"])
        .default("auto"),
    )
    .option("--json", "as JSON on stdout")
    .action(async (flags: { engine: EngineChoice; json?: boolean }) => {
      const { engineInfoAction } = await import("./commands/engine.js");
      await engineInfoAction(flags);
    });
  engineCommand
    .command("list")
    .description("the system's dockerd and every cached one, with versions and whether each is intact")
    .option("--json", "as JSON on stdout")
    .action(async (flags: { json?: boolean }) => {
      const { engineListAction } = await import("./commands/engine.js");
      await engineListAction(flags);
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
    .option(
      "--engine-version <version>",
      "engines of this version or Debian suite (fetched once); the system's dockerd when absent",
    )
    .option("--json", "print the lab as JSON on stdout")
    .action(async (flags: { hosts: number; managers: number; engineVersion?: string; json?: boolean }) => {
      const { labUpAction } = await import("./commands/lab.js");
      process.exitCode = await labUpAction(flags);
    });
  labCommand
    .command("status")
    .description("the labs on this machine: nodes, addresses, DOCKER_HOSTs, and whether each engine answers")
    .option("--json", "as JSON on stdout")
    .action(async (flags: { json?: boolean }) => {
      const { labStatusAction } = await import("./commands/lab.js");
      await labStatusAction(flags);
    });
  labCommand
    .command("down")
    .description("remove labs: every engine, namespace, veth, bridge and run directory (all labs when no id is given)")
    .argument("[id...]", "the labs to remove (docknet lab status lists them)")
    .action(async (ids: string[]) => {
      const { labDownAction } = await import("./commands/lab.js");
      await labDownAction(ids);
    });

  program
    .command("clean")
    .description(
      "remove leftovers of dead runs: private engines, labs whose run died, outside hosts left beside the current engine, and labelled containers and networks on the current engine",
    )
    .option("--all", "also remove resources of runs that may still be alive")
    .option(
      "--no-helper",
      "when not root: never clean as root on the engine's host through a privileged helper container",
    )
    .action(async (flags: { all?: boolean; helper: boolean }) => {
      const { cleanAction } = await import("./commands/clean.js");
      process.exitCode = await cleanAction(flags);
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
      return error.code === "commander.helpDisplayed" ||
        error.code === "commander.version" ||
        error.code === "commander.help"
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
    // One line, as every other error; the stack only when asked for.
    const detail =
      error instanceof Error
        ? process.env.DOCKNET_DEBUG
          ? (error.stack ?? error.message)
          : error.message
        : String(error);
    process.stderr.write(
      `docknet: internal error: ${detail}${process.env.DOCKNET_DEBUG ? "" : " (DOCKNET_DEBUG=1 shows where)"}\n`,
    );
    return ExitCode.internal;
  }
}

// Run only as the program (npx docknet, node dist/harness/cli.js), not when imported by tests.
if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv).then((code) => process.exit(code));
}
