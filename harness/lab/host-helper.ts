import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { PassThrough } from "node:stream";
import type Docker from "dockerode";
import type { CommandOutcome } from "../host-command.js";
import { errorText } from "./docker-api.js";
import { OWNER_LABEL, RUN_LABEL } from "./labels.js";
import { ensureProbeImage } from "./probe-image.js";

/**
 * A probe container in the engine host's namespaces: the host network, the
 * host's process table, and the host's root file system mounted read-only at
 * /host. Through it, a client that is not root on the engine's host (or is
 * not on it at all) still reads that host's sysctls, links and files. It only
 * reads; it is labelled like every lab resource and removed after use.
 */
export interface HostHelper {
  /** Runs a command in the helper (busybox applets, or `chroot /host …` for the host's own tools). */
  exec(argv: readonly string[]): Promise<CommandOutcome>;
  remove(): Promise<void>;
}

export async function startHostHelper(docker: Docker): Promise<HostHelper> {
  const image = await ensureProbeImage(docker);
  const container = await docker.createContainer({
    Image: image,
    Cmd: ["sleep", "600"],
    Labels: { [RUN_LABEL]: `doctor-${randomBytes(3).toString("hex")}`, [OWNER_LABEL]: `${hostname()}:${process.pid}` },
    HostConfig: {
      NetworkMode: "host",
      PidMode: "host",
      // iptables needs NET_ADMIN even to list rules; nothing here writes them.
      CapAdd: ["NET_ADMIN"],
      Binds: ["/:/host:ro"],
    },
  });
  try {
    await container.start();
  } catch (error) {
    await container.remove({ force: true }).catch(() => undefined);
    throw new Error(`the engine refused a host-network helper container: ${errorText(error)}`);
  }
  return {
    async exec(argv) {
      const exec = await container.exec({ Cmd: [...argv], AttachStdout: true, AttachStderr: true });
      const stream = await exec.start({ hijack: true, stdin: false });
      const [stdout, stderr] = [new PassThrough(), new PassThrough()];
      const chunks = { out: [] as Buffer[], err: [] as Buffer[] };
      stdout.on("data", (c: Buffer) => chunks.out.push(c));
      stderr.on("data", (c: Buffer) => chunks.err.push(c));
      docker.modem.demuxStream(stream, stdout, stderr);
      await new Promise<void>((resolve, reject) => {
        stream.on("end", resolve);
        stream.on("error", reject);
      });
      const { ExitCode } = await exec.inspect();
      return {
        code: ExitCode ?? 1,
        stdout: Buffer.concat(chunks.out).toString("utf8"),
        stderr: Buffer.concat(chunks.err).toString("utf8"),
      };
    },
    remove: () =>
      container.remove({ force: true }).then(
        () => undefined,
        () => undefined,
      ),
  };
}
