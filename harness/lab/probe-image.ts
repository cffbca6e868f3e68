import { createHash } from "node:crypto";
import { spawn } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
  for (const applet of applets.stdout.split("\n").map((a) => a.trim()).filter((a) => a && a !== "busybox")) {
    symlinkSync("busybox", join(root, "bin", applet));
  }
  return root;
}

/**
 * Makes sure the probe image exists on the engine: reuses it when present,
 * imports it from the local static busybox otherwise. Never pulls.
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
    // not there yet: import it below
  }
  const root = await probeRootfs(busybox);
  try {
    const tar = spawn("tar", ["-C", root, "--owner=0", "--group=0", "-cf", "-", "."], { stdio: ["ignore", "pipe", "inherit"] });
    const [repo, version] = tag.split(":");
    const stream = await docker.importImage(tar.stdout, { repo, tag: version, changes: ['CMD ["/bin/sh"]', "LABEL io.docknet.probe=1"] } as object);
    const messages: { error?: string }[] = await new Promise((resolve, reject) =>
      docker.modem.followProgress(stream, (error: Error | null, output: { error?: string }[]) => (error ? reject(error) : resolve(output))),
    );
    const failure = messages.find((message) => message.error);
    if (failure) throw new Error(`importing the probe image failed: ${failure.error}`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return tag;
}
