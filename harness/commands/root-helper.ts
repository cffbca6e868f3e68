import { randomBytes } from "node:crypto";
import { rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import Docker from "dockerode";
import { builtProgram } from "../built-program.js";
import {
  dockerodeOptions,
  engineProblem,
  resolveCurrentDockerHost,
  type DockerHostChoice,
} from "../engine/docker-host.js";
import { currentEngineApi } from "../engine/select-engine.js";
import { NODE_COMMAND_ENV } from "../node-command.js";
import { errorText } from "../lab/docker-api.js";
import { isSshAddress } from "../engine/ssh-tunnel.js";
import { OWNER_LABEL, RUN_LABEL } from "../lab/labels.js";
import { ensureProbeImage, type ProbeImageChoice } from "../lab/probe-image.js";
import { HELPER_OWNER_ENV, PARENT_ON_STDIN, PARENT_PID_ENV, runsThroughHelper, VANTAGE_ENV } from "../vantage.js";

/**
 * A user in the `docker` group is root on the engine's host by Docker's own
 * design ("the docker group grants root-level privileges"): a privileged
 * container with the host's process table can enter every namespace of the
 * host. docknet uses exactly that, visibly and only when allowed (not with
 * --no-helper), to run one of its own commands as root on the engine's host:
 * the same build of docknet, in the same working directory, through
 * `nsenter` into the user's own process's namespaces from a helper container. The helper's main process is that
 * command, so the container lives exactly as long as it (and is removed
 * after); the command watches the process that started it and cleans up as
 * on SIGTERM when that dies (kill -9), so nothing outlives either.
 */

/** The label that marks a helper container. */
export const HELPER_LABEL = "io.docknet.helper";

/** The exit code of the helper's script when docknet's files are not on the engine's host (a VM, another machine). */
const NOT_THIS_HOST = 97;

export type HelperOutcome =
  | { readonly ran: true; readonly code: number; readonly stdout: string }
  | { readonly ran: false; readonly refused: string };

/** Environment the command keeps: what selects colours, CI behaviour and docknet's own settings. */
function passedEnvironment(): string[] {
  const kept = Object.entries(process.env).filter(
    ([key, value]) =>
      value !== undefined &&
      (/^(DOCKNET_|TESTCONTAINERS_)/.test(key) ||
        ["CI", "NO_COLOR", "FORCE_COLOR", "TERM", "LANG", "GITHUB_ACTIONS"].includes(key)),
  );
  return kept.map(([key, value]) => `${key}=${value}`);
}

/** The engine a helper runs on: the user's choice, and the address its API answers at here (an ssh:// engine's is docknet's ssh socket). */
export interface HelperRoute {
  readonly engine: DockerHostChoice;
  readonly dockerHost: string;
  /** Set when the engine is on another host (ssh://): docknet's files are not there, so its runtime is shipped. */
  readonly remote?: string;
  close(): Promise<void>;
}

/**
 * Whether a command that needs root on the engine's host goes through the
 * helper: undefined when there is no need (docknet is root beside a local
 * engine, or already runs in the helper); else the engine to run the helper
 * on, or why it cannot (`--no-helper`, no engine).
 */
export async function helperRoute(allowed: boolean): Promise<HelperRoute | { notRoot: string } | undefined> {
  if (runsThroughHelper()) return undefined;
  const engine = resolveCurrentDockerHost();
  const remote = isSshAddress(engine.host) ? engine.host : undefined;
  if (process.getuid?.() === 0 && !remote) return undefined;
  const who = remote ? `the engine is on another host (${remote})` : "docknet is not root";
  if (!allowed) return { notRoot: `${who} and --no-helper refuses the helper container` };
  const api = await currentEngineApi(engine);
  if ("problem" in api) return { notRoot: `${who}, and no engine answers to run a helper container on` };
  return { engine, dockerHost: api.dockerHost, ...(remote ? { remote } : {}), close: () => api.close() };
}

/** How the helper's container runs the command, and on whose files. */
interface Placement {
  readonly cmd: string[];
  readonly env: string[];
  /** The user's process is watched through the container's stdin (its end: the user's docknet is gone). */
  readonly watchStdin: boolean;
  readonly vantage: string;
  cleanUp(): void;
}

/**
 * Runs `docknet ARGS` as root on the engine's host through a privileged helper
 * container; its stderr streams to ours as it comes, its stdout is returned.
 * Ctrl-C and SIGTERM are passed on to it. On this machine's engine it runs
 * docknet's own files, entered through the user's process; where the engine's
 * host is another (an ssh:// engine, a VM, the host of a container docknet runs
 * in), docknet's runtime is shipped there first (engine/runtime-bundle.ts).
 * Refused, with the reason, when the engine will not run a privileged
 * container or the runtime cannot run on its host.
 */
export async function runAsRootThroughEngine(
  route: HelperRoute,
  args: readonly string[],
  options: { readonly why: string; readonly color: boolean; readonly probe?: ProbeImageChoice },
): Promise<HelperOutcome> {
  const docker = new Docker(dockerodeOptions(route.dockerHost));
  let image: string;
  try {
    image = await ensureProbeImage(docker, options.probe ?? {});
  } catch (error) {
    return { ran: false, refused: `no helper image: ${(error as Error).message}` };
  }
  const vantage = `through a privileged helper container on the engine (${options.why})`;
  if (!route.remote) {
    const here = await runInHelper(docker, route, image, args, options.color, onThisMachine(route, args, vantage));
    if (here.ran || here.refused !== NOT_THIS_HOST_REASON) return here;
    process.stderr.write(`docknet: ${NOT_THIS_HOST_REASON}: shipping docknet's runtime there\n`);
  }
  let shipped: Placement;
  try {
    shipped = await shippedRuntime(docker, image, args, `${vantage.slice(0, -1)}; docknet's runtime shipped there)`);
  } catch (error) {
    return { ran: false, refused: `docknet's runtime cannot run on the engine's host: ${(error as Error).message}` };
  }
  return runInHelper(docker, route, image, args, options.color, shipped);
}

const NOT_THIS_HOST_REASON =
  "the engine's host is not this machine, or not this process's (docknet's files and process are not there: a VM such as Docker Desktop's, a remote engine, or docknet in a container of its own)";

/**
 * docknet's own files on this machine, through `nsenter` into the user's
 * process's namespaces. Proof that the helper entered this very process's
 * namespaces, not a namesake's: in a CI job container, or on another machine,
 * the same pid is some other process. A nonce file only this process made
 * must be there, with docknet's own files.
 */
function onThisMachine(route: HelperRoute, args: readonly string[], vantage: string): Placement {
  const node = process.execPath;
  const cli = builtProgram("cli.js");
  const nonce = randomBytes(16).toString("hex");
  const nonceFile = join(tmpdir(), `docknet-helper-${nonce}`);
  writeFileSync(nonceFile, nonce, { mode: 0o600 });
  const enter = `[ -e /proc/$0/ns/mnt ] || exit ${NOT_THIS_HOST}; exec nsenter -t "$0" -m -u -i -n -- "$@"`;
  // Once seen, the helper removes the nonce itself: a user's process killed with -9 leaves none behind.
  const onHost = `[ "$(cat "$4" 2>/dev/null)" = "$5" ] && [ -x "$1" ] && [ -f "$2" ] || exit ${NOT_THIS_HOST}; rm -f "$4"; cd "$3" 2>/dev/null || cd /; shift 5; exec "$@"`;
  return {
    // Into the namespaces of the user's own process (mount, UTS, IPC, network): the host's, entered
    // through a process the user owns (pid 1 may belong to an init no one may enter). The process
    // table is already the host's (PidMode host), so the pid is the same there.
    cmd: [
      "sh",
      "-c",
      enter,
      String(process.pid),
      "/bin/sh",
      "-c",
      onHost,
      "sh",
      node,
      cli,
      process.cwd(),
      nonceFile,
      nonce,
      node,
      cli,
      ...args,
    ],
    env: [
      // The engine the user chose; the default socket is the default for root too.
      ...(route.engine.source === "default socket" ? [] : [`DOCKER_HOST=${route.engine.host}`]),
      `${PARENT_PID_ENV}=${process.pid}`,
    ],
    watchStdin: false,
    vantage,
    cleanUp: () => rmSync(nonceFile, { force: true }),
  };
}

/**
 * Where shipped runtimes are unpacked on the engine's host (kept there, one
 * per docknet build, for the next run). Root's alone: what root runs from
 * there must be nothing another user could have put in its place (as in /tmp).
 * The engine creates it when it binds it first.
 */
const HOST_RUNTIME_DIR = "/var/lib/docknet/runtime";
const RUNTIME_MOUNT = "/docknet-runtime";

/**
 * docknet's runtime unpacked on the engine's host (once per build: a later
 * run finds it complete and sends nothing), run there in the namespaces of
 * the helper's parent, the engine's container shim: the engine's host as the
 * engine itself sees it. The user's docknet is watched through the
 * container's stdin, which ends when that process does.
 */
async function shippedRuntime(
  docker: Docker,
  image: string,
  args: readonly string[],
  vantage: string,
): Promise<Placement> {
  const { bundleArchive, bundledNode, runtimeBundle } = await import("../engine/runtime-bundle.js");
  const bundle = await runtimeBundle();
  const info = (await docker.info()) as { Architecture?: string };
  const wanted = { x64: "x86_64", arm64: "aarch64" }[process.arch as string] ?? process.arch;
  if (info.Architecture && info.Architecture !== wanted)
    throw new Error(`it is ${info.Architecture}, and docknet here runs on ${wanted}: run docknet on that host`);
  const name = `docknet-runtime-${bundle.id}`;
  const dir = `${HOST_RUNTIME_DIR}/${name}`;
  const binds = [`${HOST_RUNTIME_DIR}:${RUNTIME_MOUNT}`];
  // A container that only carries the archive calls: created, never started.
  const carrier = await docker.createContainer({
    Image: image,
    Cmd: ["true"],
    Labels: { [RUN_LABEL]: `helper-${randomBytes(3).toString("hex")}`, [HELPER_LABEL]: "runtime" },
    HostConfig: { Binds: binds },
  });
  try {
    const complete = await carrier
      .infoArchive({ path: `${RUNTIME_MOUNT}/${name}/complete` })
      .then(() => true)
      .catch(() => false);
    if (!complete) {
      process.stderr.write(
        `docknet: shipping docknet's runtime to the engine's host (${Math.round(bundle.bytes / 1e6)} MB before compression, once per build; kept in ${dir})\n`,
      );
      await carrier.putArchive(bundleArchive(bundle, name), { path: RUNTIME_MOUNT });
      await carrier.putArchive(completeMarker(name), { path: RUNTIME_MOUNT });
    }
  } finally {
    await carrier.remove({ force: true }).catch(() => undefined);
  }
  const node = bundledNode(bundle, dir);
  return {
    cmd: ["sh", "-c", 'exec nsenter -t "$PPID" -m -u -i -n -- "$@"', "sh", ...node, `${dir}/${bundle.cli}`, ...args],
    env: [`${NODE_COMMAND_ENV}=${JSON.stringify(node)}`, `${PARENT_PID_ENV}=${PARENT_ON_STDIN}`],
    watchStdin: true,
    vantage,
    cleanUp: () => undefined,
  };
}

/** A tar holding one empty file, `<dir>/complete`: written after the runtime, so a half-sent one is never used. */
function completeMarker(dir: string): Buffer {
  const header = Buffer.alloc(512);
  const field = (text: string, offset: number, length: number) => header.write(text, offset, length, "ascii");
  field(`${dir}/complete`, 0, 100);
  field("0000644\0", 100, 8);
  field("0000000\0", 108, 8);
  field("0000000\0", 116, 8);
  field("00000000000\0", 124, 12);
  field(
    `${Math.floor(Date.now() / 1000)
      .toString(8)
      .padStart(11, "0")}\0`,
    136,
    12,
  );
  field("        ", 148, 8);
  field("0", 156, 1);
  field("ustar\0", 257, 6);
  field("00", 263, 2);
  let sum = 0;
  for (const byte of header) sum += byte;
  field(`${sum.toString(8).padStart(6, "0")}\0 `, 148, 8);
  return Buffer.concat([header, Buffer.alloc(1024)]);
}

async function runInHelper(
  docker: Docker,
  route: HelperRoute,
  image: string,
  args: readonly string[],
  color: boolean,
  placement: Placement,
): Promise<HelperOutcome> {
  const owner = `${hostname()}:${process.pid}`;
  let container: Docker.Container;
  try {
    container = await docker.createContainer({
      Image: image,
      Cmd: placement.cmd,
      Env: [
        ...passedEnvironment(),
        // The host's own tools: /usr/sbin holds ip and iptables, not on a normal user's PATH.
        `PATH=${process.env.PATH ?? ""}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
        "HOME=/root",
        ...placement.env,
        `${VANTAGE_ENV}=${placement.vantage}`,
        `${HELPER_OWNER_ENV}=${owner}`,
        ...(color ? ["FORCE_COLOR=1"] : []),
      ],
      Labels: {
        [RUN_LABEL]: `helper-${randomBytes(3).toString("hex")}`,
        [OWNER_LABEL]: owner,
        [HELPER_LABEL]: args[0] ?? "",
      },
      AttachStdout: true,
      AttachStderr: true,
      ...(placement.watchStdin ? { AttachStdin: true, OpenStdin: true, StdinOnce: true } : {}),
      HostConfig: {
        Privileged: true,
        PidMode: "host",
        NetworkMode: "host",
        AutoRemove: true,
      },
    });
  } catch (error) {
    placement.cleanUp();
    return {
      ran: false,
      refused: `the engine refused a privileged helper container: ${engineProblem(route.engine.host, error)}`,
    };
  }
  const stream = await container.attach({
    stream: true,
    stdout: true,
    stderr: true,
    ...(placement.watchStdin ? { stdin: true, hijack: true } : {}),
  });
  const stdout: Buffer[] = [];
  const out = new PassThrough();
  const err = new PassThrough();
  out.on("data", (chunk: Buffer) => stdout.push(chunk));
  err.on("data", (chunk: Buffer) => process.stderr.write(chunk));
  docker.modem.demuxStream(stream, out, err);
  const ended = new Promise<void>((resolve) => {
    stream.on("end", resolve);
    stream.on("close", resolve);
  });
  // Waiting is asked for before the start: a helper that is refused exits in a moment, and AutoRemove
  // takes it before a wait asked for afterwards could see it.
  const waited = container.wait({ condition: "next-exit" }) as Promise<{ StatusCode: number }>;
  try {
    await container.start();
  } catch (error) {
    placement.cleanUp();
    waited.catch(() => undefined);
    await container.remove({ force: true }).catch(() => undefined);
    return { ran: false, refused: `the engine refused a privileged helper container: ${errorText(error)}` };
  }
  const pass = (signal: NodeJS.Signals) => () => void container.kill({ signal }).catch(() => undefined);
  const onInt = pass("SIGINT");
  const onTerm = pass("SIGTERM");
  process.on("SIGINT", onInt);
  process.on("SIGTERM", onTerm);
  try {
    const { StatusCode } = await waited;
    await Promise.race([ended, new Promise((resolve) => setTimeout(resolve, 2000))]);
    if (StatusCode === NOT_THIS_HOST) return { ran: false, refused: NOT_THIS_HOST_REASON };
    return { ran: true, code: StatusCode, stdout: Buffer.concat(stdout).toString("utf8") };
  } finally {
    process.off("SIGINT", onInt);
    process.off("SIGTERM", onTerm);
    // The helper's stdin, when it watches the user's process through it, ends here.
    (stream as NodeJS.ReadWriteStream).end?.();
    placement.cleanUp();
  }
}
