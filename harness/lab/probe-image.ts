import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type Docker from "dockerode";
import { EngineUnavailable } from "../exit-codes.js";
import { findStaticBusybox } from "../static-busybox.js";

const DOCKERFILE = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "probe", "Dockerfile");
const DOCKERFILE_FALLBACK = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "probe", "Dockerfile");

/** The probe image's Dockerfile, whether we run from sources or from dist/. */
function dockerfilePath(): string {
  return existsSync(DOCKERFILE) ? DOCKERFILE : DOCKERFILE_FALLBACK;
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
