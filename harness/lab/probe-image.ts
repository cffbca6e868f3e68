import { createHash } from "node:crypto";
import { spawn } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import type Docker from "dockerode";
import { EngineUnavailable } from "../exit-codes.js";
import { runCommand } from "../host-command.js";
import { findStaticBusybox } from "../static-busybox.js";

/**
 * The recipe of the probe image, part of its tag: a changed recipe or busybox gives a new image.
 * The image is imported from a root file system docknet lays out itself (busybox, one symlink per
 * applet, /tmp /www /root): no build step runs a container, so a fresh engine has it in a moment.
 */
const RECIPE = "docknet-probe/2: FROM scratch; /bin/busybox; /bin/<applet> -> busybox; /tmp /www /root; CMD /bin/sh";

/** The image tag: content-addressed, so a changed busybox or recipe imports a new image. */
export function probeImageTag(busybox: string): string {
  const hash = createHash("sha256").update(readFileSync(busybox)).update(RECIPE).digest("hex");
  return `docknet-probe:${hash.slice(0, 12)}`;
}

/** Lays out the probe's root file system in a fresh directory. */
async function probeRootfs(busybox: string): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), "docknet-probe-"));
  for (const dir of ["bin", "tmp", "www", "root"]) mkdirSync(join(root, dir));
  chmodSync(join(root, "tmp"), 0o1777);
  copyFileSync(busybox, join(root, "bin", "busybox"));
  chmodSync(join(root, "bin", "busybox"), 0o755);
  const applets = await runCommand(busybox, ["--list"]);
  if (applets.code !== 0) throw new EngineUnavailable(`${busybox} --list failed: ${applets.stderr.trim()}`);
  for (const applet of applets.stdout
    .split("\n")
    .map((a) => a.trim())
    .filter((a) => a && a !== "busybox")) {
    symlinkSync("busybox", join(root, "bin", applet));
  }
  return root;
}

/**
 * The image docknet pulls for its probe when the host has no static busybox and the user allows a
 * pull (--pull-probe): Docker Hub's busybox, pinned by digest so that what runs is what was
 * checked. It is never pulled unasked; what it holds is checked as docknet's own probe is.
 */
export const PINNED_PROBE_IMAGE =
  "busybox:1.37.0@sha256:bdf57e528e45e4433820e045b29b4597825a1c9e38353532d90a01445013f82e";

/** The busybox applets the probe's actions run: a pulled image without one of them cannot be a probe. */
export const PROBE_APPLETS = [
  "sh",
  "ip",
  "nc",
  "nslookup",
  "ping",
  "httpd",
  "netstat",
  "route",
  "printf",
  "cat",
  "sleep",
  "timeout",
  "env",
  "id",
  "mkdir",
  "chmod",
] as const;

/** How the probe image may be had: a local one named by the user, or (with --pull-probe) a reference docknet may pull. */
export interface ProbeImageChoice {
  readonly override?: string;
  /** --pull-probe: pull this reference (PINNED_PROBE_IMAGE unless the user names one) when no local busybox exists. */
  readonly pull?: string;
}

/**
 * Makes sure the probe image exists on the engine: reuses it when present,
 * imports it from the local static busybox otherwise; without one, derives it
 * from a pulled busybox image, only when the user allows the pull.
 */
export async function ensureProbeImage(docker: Docker, choice: ProbeImageChoice | string = {}): Promise<string> {
  const { override, pull } = typeof choice === "string" ? { override: choice, pull: undefined } : choice;
  if (override) {
    try {
      await docker.getImage(override).inspect();
      return override;
    } catch {
      throw new EngineUnavailable(
        `--probe-image ${override} is not on the engine (docknet never pulls): build or load it first`,
      );
    }
  }
  let busybox: string;
  try {
    busybox = findStaticBusybox();
  } catch (error) {
    return probeFromBusyboxImage(docker, pull, (error as Error).message);
  }
  const tag = probeImageTag(busybox);
  try {
    await docker.getImage(tag).inspect();
    return tag;
  } catch {
    // not there yet: import it below
  }
  const root = await probeRootfs(busybox);
  try {
    const tar = spawn("tar", ["-C", root, "--owner=0", "--group=0", "-cf", "-", "."], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const [repo, version] = tag.split(":");
    const stream = await docker.importImage(tar.stdout, {
      repo,
      tag: version,
      changes: ['CMD ["/bin/sh"]', "LABEL io.docknet.probe=1"],
    } as object);
    await followProgress(docker, stream, "importing the probe image");
    await tagImportedIfUntagged(docker, tag);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return tag;
}

const imageExists = (docker: Docker, reference: string): Promise<boolean> =>
  docker
    .getImage(reference)
    .inspect()
    .then(
      () => true,
      () => false,
    );

/**
 * Podman's compatible API (4.3) imports the image but drops the tag it was given (it names it
 * `:latest`): the newest probe image is the one just imported, and gets its tag here. Docker tags it.
 */
async function tagImportedIfUntagged(docker: Docker, tag: string): Promise<void> {
  if (await imageExists(docker, tag)) return;
  // Filtered here: Podman 4.3's compatible API does not filter by label.
  const untagged = (await docker.listImages())
    .filter((image) => image.Labels?.["io.docknet.probe"] === "1")
    .sort((a, b) => b.Created - a.Created)[0];
  if (!untagged)
    throw new Error(`the engine imported the probe image but no image ${tag} or other probe image is there`);
  const [repo, version] = tag.split(":");
  await docker.getImage(untagged.Id).tag({ repo: repo!, tag: version! });
}

async function followProgress(docker: Docker, stream: NodeJS.ReadableStream, what: string): Promise<void> {
  const messages: { error?: string }[] = await new Promise((resolve, reject) =>
    docker.modem.followProgress(stream, (error: Error | null, output: { error?: string }[]) =>
      error ? reject(error) : resolve(output),
    ),
  );
  const failure = messages.find((message) => message.error);
  if (failure) throw new EngineUnavailable(`${what} failed: ${failure.error}`);
}

/** The probe tag derived from a busybox image: one per image id, so a changed image derives anew. */
const derivedTag = (imageId: string) => `docknet-probe:pulled-${imageId.replace(/^sha256:/, "").slice(0, 12)}`;

/**
 * The probe, derived from a busybox image already on the engine or (when `pull`
 * is given) pulled: checked for the applets the probe runs, with the probe's
 * directories added. No pull without the user's word.
 */
async function probeFromBusyboxImage(
  docker: Docker,
  pull: string | undefined,
  noLocalBusybox: string,
): Promise<string> {
  const reference = pull ?? PINNED_PROBE_IMAGE;
  let imageId: string | undefined = await docker
    .getImage(reference)
    .inspect()
    .then(
      (i) => i.Id,
      () => undefined,
    );
  if (!imageId) {
    if (pull === undefined) {
      throw new EngineUnavailable(
        `${noLocalBusybox.replace(/, or pass --probe-image IMAGE$/, "")}; or let docknet pull ${PINNED_PROBE_IMAGE} (--pull-probe), or pass --probe-image IMAGE`,
      );
    }
    try {
      await followProgress(docker, await docker.pull(reference), `pulling ${reference}`);
    } catch (error) {
      throw new EngineUnavailable(
        error instanceof EngineUnavailable ? error.message : `pulling ${reference} failed: ${(error as Error).message}`,
      );
    }
    imageId = (await docker.getImage(reference).inspect()).Id;
  }
  const tag = derivedTag(imageId);
  if (await imageExists(docker, tag)) return tag;
  const container = await docker.createContainer({
    Image: reference,
    Cmd: ["sh", "-c", "mkdir -p /www /tmp /root && chmod 1777 /tmp && busybox --list"],
    Labels: { "io.docknet.probe": "derive" },
    HostConfig: { NetworkMode: "none" },
  });
  try {
    const output = new PassThrough();
    let listed = "";
    output.on("data", (chunk: Buffer) => (listed += chunk.toString()));
    const attached = await container.attach({ stream: true, stdout: true, stderr: true });
    docker.modem.demuxStream(attached, output, new PassThrough());
    await container.start().catch((error: Error) => {
      throw new EngineUnavailable(`${reference} cannot be docknet's probe: ${error.message}`);
    });
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    await new Promise((resolve) => setTimeout(resolve, 100));
    const applets = new Set(listed.split(/\s+/).filter(Boolean));
    const missing = PROBE_APPLETS.filter((a) => !applets.has(a));
    if (StatusCode !== 0 || missing.length) {
      throw new EngineUnavailable(
        `${reference} cannot be docknet's probe: ${StatusCode !== 0 ? `busybox --list exited ${StatusCode}` : `it has no ${missing.join(", ")}`}`,
      );
    }
    const [repo, version] = tag.split(":");
    await container.commit({ repo, tag: version, changes: ['CMD ["/bin/sh"]', "LABEL io.docknet.probe=1"] });
    return tag;
  } finally {
    await container.remove({ force: true }).catch(() => undefined);
  }
}
