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
  pingEngine,
  resolveCurrentDockerHost,
  type DockerHostChoice,
} from "../engine/docker-host.js";
import { errorText } from "../lab/docker-api.js";
import { isSshAddress } from "../engine/ssh-tunnel.js";
import { OWNER_LABEL, RUN_LABEL } from "../lab/labels.js";
import { ensureProbeImage, type ProbeImageChoice } from "../lab/probe-image.js";
import { HELPER_OWNER_ENV, PARENT_PID_ENV, runsThroughHelper, VANTAGE_ENV } from "../vantage.js";

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

/**
 * Whether a command that needs root goes through the helper: undefined when
 * there is no need (docknet is root, or already runs in the helper); else the
 * engine to run the helper on, or why it cannot (`--no-helper`, no engine).
 */
export async function helperRoute(
  allowed: boolean,
): Promise<{ engine: DockerHostChoice } | { notRoot: string } | undefined> {
  if (process.getuid?.() === 0 || runsThroughHelper()) return undefined;
  if (!allowed) return { notRoot: "docknet is not root and --no-helper refuses the helper container" };
  const engine = resolveCurrentDockerHost();
  // The helper runs docknet itself on the engine's host: this machine's files are not on another host.
  if (isSshAddress(engine.host)) return { notRoot: `the engine is on another host (${engine.host})` };
  if ((await pingEngine(engine.host)) !== undefined)
    return { notRoot: "docknet is not root, and no engine answers to run a helper container on" };
  return { engine };
}

/**
 * Runs `docknet ARGS` as root on the engine's host through a privileged helper
 * container; its stderr streams to ours as it comes, its stdout is returned.
 * Ctrl-C and SIGTERM are passed on to it. Refused (with the reason) when the
 * engine will not run a privileged container or its host is not this machine.
 */
export async function runAsRootThroughEngine(
  engine: DockerHostChoice,
  args: readonly string[],
  options: { readonly why: string; readonly color: boolean; readonly probe?: ProbeImageChoice },
): Promise<HelperOutcome> {
  const dockerHost = engine.host;
  const docker = new Docker(dockerodeOptions(dockerHost));
  let image: string;
  try {
    image = await ensureProbeImage(docker, options.probe ?? {});
  } catch (error) {
    return { ran: false, refused: `no helper image: ${(error as Error).message}` };
  }
  const node = process.execPath;
  const cli = builtProgram("cli.js");
  // Proof that the helper entered this very process's namespaces, not a namesake's: in a CI job
  // container, or on another machine, the same pid is some other process. A nonce file only this
  // process made must be there, with docknet's own files.
  const nonce = randomBytes(16).toString("hex");
  const nonceFile = join(tmpdir(), `docknet-helper-${nonce}`);
  writeFileSync(nonceFile, nonce, { mode: 0o600 });
  const enter = `[ -e /proc/$0/ns/mnt ] || exit ${NOT_THIS_HOST}; exec nsenter -t "$0" -m -u -i -n -- "$@"`;
  // Once seen, the helper removes the nonce itself: a user's process killed with -9 leaves none behind.
  const onHost = `[ "$(cat "$4" 2>/dev/null)" = "$5" ] && [ -x "$1" ] && [ -f "$2" ] || exit ${NOT_THIS_HOST}; rm -f "$4"; cd "$3" 2>/dev/null || cd /; shift 5; exec "$@"`;
  const owner = `${hostname()}:${process.pid}`;
  const vantage = `through a privileged helper container on the engine (${options.why})`;
  let container: Docker.Container;
  try {
    container = await docker.createContainer({
      Image: image,
      // Into the namespaces of the user's own process (mount, UTS, IPC, network): the host's, entered
      // through a process the user owns (pid 1 may belong to an init no one may enter). The process
      // table is already the host's (PidMode host), so the pid is the same there.
      Cmd: [
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
      Env: [
        ...passedEnvironment(),
        // The host's own tools: /usr/sbin holds ip and iptables, not on a normal user's PATH.
        `PATH=${process.env.PATH ?? ""}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
        "HOME=/root",
        // The engine the user chose; the default socket is the default for root too.
        ...(engine.source === "default socket" ? [] : [`DOCKER_HOST=${dockerHost}`]),
        `${PARENT_PID_ENV}=${process.pid}`,
        `${VANTAGE_ENV}=${vantage}`,
        `${HELPER_OWNER_ENV}=${owner}`,
        ...(options.color ? ["FORCE_COLOR=1"] : []),
      ],
      Labels: {
        [RUN_LABEL]: `helper-${randomBytes(3).toString("hex")}`,
        [OWNER_LABEL]: owner,
        [HELPER_LABEL]: args[0] ?? "",
      },
      AttachStdout: true,
      AttachStderr: true,
      HostConfig: { Privileged: true, PidMode: "host", NetworkMode: "host", AutoRemove: true },
    });
  } catch (error) {
    rmSync(nonceFile, { force: true });
    return {
      ran: false,
      refused: `the engine refused a privileged helper container: ${engineProblem(dockerHost, error)}`,
    };
  }
  const stream = await container.attach({ stream: true, stdout: true, stderr: true });
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
    rmSync(nonceFile, { force: true });
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
    if (StatusCode === NOT_THIS_HOST) {
      return {
        ran: false,
        refused:
          "the engine's host is not this machine, or not this process's (docknet's files and process are not there: a VM such as Docker Desktop's, a remote engine, or docknet in a container of its own)",
      };
    }
    return { ran: true, code: StatusCode, stdout: Buffer.concat(stdout).toString("utf8") };
  } finally {
    process.off("SIGINT", onInt);
    process.off("SIGTERM", onTerm);
    rmSync(nonceFile, { force: true });
  }
}
