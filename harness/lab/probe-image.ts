import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdtempSync, openSync, readFileSync, readSync, closeSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type Docker from "dockerode";
import { EngineUnavailable } from "../exit-codes.js";

const DOCKERFILE = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "probe", "Dockerfile");
const DOCKERFILE_FALLBACK = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "probe", "Dockerfile");
const BUSYBOX_CANDIDATES = ["/bin/busybox", "/usr/bin/busybox"];

/** The probe image's Dockerfile, whether we run from sources or from dist/. */
function dockerfilePath(): string {
  return existsSync(DOCKERFILE) ? DOCKERFILE : DOCKERFILE_FALLBACK;
}

/** True when an ELF binary has no program interpreter, i.e. runs in an empty image. */
export function isStaticElf(path: string): boolean {
  const fd = openSync(path, "r");
  try {
    const header = Buffer.alloc(64);
    readSync(fd, header, 0, 64, 0);
    if (header.readUInt32BE(0) !== 0x7f454c46 || header[4] !== 2) return false; // ELF64 only
    const phoff = Number(header.readBigUInt64LE(0x20));
    const phentsize = header.readUInt16LE(0x36);
    const phnum = header.readUInt16LE(0x38);
    const entry = Buffer.alloc(4);
    for (let i = 0; i < phnum; i++) {
      readSync(fd, entry, 0, 4, phoff + i * phentsize);
      if (entry.readUInt32LE(0) === 3) return false; // PT_INTERP: dynamically linked
    }
    return true;
  } finally {
    closeSync(fd);
  }
}

/** The static busybox to build from: DOCKNET_BUSYBOX, else Debian's busybox-static. */
export function findStaticBusybox(): string {
  const candidates = process.env.DOCKNET_BUSYBOX ? [process.env.DOCKNET_BUSYBOX] : BUSYBOX_CANDIDATES;
  for (const candidate of candidates) {
    if (existsSync(candidate) && isStaticElf(candidate)) return candidate;
  }
  throw new EngineUnavailable(
    `no static busybox to build the probe image from (looked at ${candidates.join(", ")}): apt-get install -y busybox-static, or pass --probe-image IMAGE`,
  );
}

/** The image tag: content-addressed, so a changed busybox or Dockerfile builds a new image. */
export function probeImageTag(busybox: string): string {
  const hash = createHash("sha256").update(readFileSync(busybox)).update(readFileSync(dockerfilePath())).digest("hex");
  return `docknet-probe:${hash.slice(0, 12)}`;
}

/**
 * Makes sure the probe image exists on the engine: reuses it when present,
 * builds it FROM scratch with the local static busybox otherwise. Never pulls.
 */
export async function ensureProbeImage(docker: Docker, override?: string): Promise<string> {
  if (override) {
    try {
      await docker.getImage(override).inspect();
      return override;
    } catch {
      throw new EngineUnavailable(`--probe-image ${override} is not on the engine (docknet never pulls): build or load it first`);
    }
  }
  const busybox = findStaticBusybox();
  const tag = probeImageTag(busybox);
  try {
    await docker.getImage(tag).inspect();
    return tag;
  } catch {
    // not there yet: build it below
  }
  const context = mkdtempSync(join(tmpdir(), "docknet-probe-"));
  try {
    copyFileSync(dockerfilePath(), join(context, "Dockerfile"));
    copyFileSync(busybox, join(context, "busybox"));
    const stream = await docker.buildImage({ context, src: ["Dockerfile", "busybox"] }, { t: tag, labels: { "io.docknet.probe": "1" } });
    const messages: { error?: string }[] = await new Promise((resolve, reject) =>
      docker.modem.followProgress(stream, (error: Error | null, output: { error?: string }[]) => (error ? reject(error) : resolve(output))),
    );
    const failure = messages.find((message) => message.error);
    if (failure) throw new Error(`building the probe image failed: ${failure.error}`);
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
  return tag;
}
