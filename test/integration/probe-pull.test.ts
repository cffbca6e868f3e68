import { spawn, type ChildProcess } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawn as spawnTar } from "node:child_process";
import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Engine } from "../../harness/engine/engine.js";
import { enterNetns, runInNetns } from "../../harness/engine/netns.js";
import { startPrivateEngine } from "../../harness/engine/private-engine.js";
import { waitFor } from "../../harness/polling.js";
import { ensureProbeImage, PROBE_APPLETS } from "../../harness/lab/probe-image.js";
import { docknetLeftovers } from "./leftovers.js";
import { docknet } from "./run-cli.js";

const REGISTRY = "127.0.0.1:5000";

/**
 * A host without a static busybox: the probe image comes from a busybox image
 * the engine pulls, only when the user says so (--pull-probe). Hermetic: the
 * registry is Debian's docker-registry on 127.0.0.1 inside the private
 * engine's namespace, filled by the test itself. No real registry is reached.
 */
describe("the probe image without a host busybox: --pull-probe", () => {
  let engine: Engine;
  let docker: Docker;
  let registry: ChildProcess;
  let registryLog = "";
  let dir: string;
  let good: string;
  let broken: string;
  const noBusybox = () => ({ DOCKER_HOST: engine.dockerHost, DOCKNET_BUSYBOX: "/nonexistent/busybox" });
  const probeImages = async () =>
    (await docker.listImages()).flatMap((i) => i.RepoTags ?? []).filter((t) => t.startsWith("docknet-probe:"));

  /** Pushes a local image to the test's registry; its reference by digest. */
  async function push(image: string, name: string): Promise<string> {
    const target = `${REGISTRY}/${name}`;
    await docker.getImage(image).tag({ repo: target, tag: "test" });
    const stream = await docker.getImage(`${target}:test`).push({ authconfig: { serveraddress: REGISTRY } });
    const output: Array<{ error?: string; aux?: { Digest?: string } }> = await new Promise((resolve, reject) =>
      docker.modem.followProgress(stream, (e: Error | null, o: Array<{ error?: string; aux?: { Digest?: string } }>) =>
        e ? reject(e) : resolve(o),
      ),
    );
    const failure = output.find((o) => o.error);
    if (failure) throw new Error(`push ${target}: ${failure.error}`);
    const digest = output.find((o) => o.aux?.Digest)?.aux?.Digest;
    await docker.getImage(`${target}:test`).remove({ force: true });
    return `${target}@${digest}`;
  }

  beforeAll(async () => {
    engine = await startPrivateEngine();
    docker = new Docker({ socketPath: engine.dockerHost.slice("unix://".length) });
    dir = mkdtempSync(join(tmpdir(), "docknet-registry-"));
    writeFileSync(
      join(dir, "config.yml"),
      `version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: ${dir}/data\nhttp:\n  addr: ${REGISTRY}\n`,
    );
    const [nsenter, ...enter] = enterNetns(engine.netns!);
    registry = spawn(nsenter!, [...enter, "docker-registry", "serve", join(dir, "config.yml")], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    registry.stdout!.on("data", (c: Buffer) => (registryLog += c.toString()));
    registry.stderr!.on("data", (c: Buffer) => (registryLog += c.toString()));
    const up = await waitFor(
      async () =>
        (await runInNetns(engine.netns!, ["busybox", "wget", "-q", "-O", "-", `http://${REGISTRY}/v2/`], 3000)).code ===
        0,
      20_000,
    );
    if (!up) throw new Error(`docker-registry did not start: ${registryLog}`);
    // A good busybox image: docknet's own probe, as the engine has it.
    good = await push(await ensureProbeImage(docker), "busybox");
    // A broken one: no busybox at all, a static program of another kind (tini) where its shell should be.
    const root = join(dir, "broken");
    mkdirSync(join(root, "bin"), { recursive: true });
    copyFileSync("/usr/bin/docker-init", join(root, "bin", "sh"));
    const tar = spawnTar("tar", ["-C", root, "-cf", "-", "."], { stdio: ["ignore", "pipe", "inherit"] });
    const imported = await docker.importImage(tar.stdout!, { repo: "broken-busybox", tag: "1" } as object);
    await new Promise((resolve, reject) =>
      docker.modem.followProgress(imported, (e: Error | null) => (e ? reject(e) : resolve(undefined))),
    );
    broken = await push("broken-busybox:1", "broken");
    // The engine starts with no probe and no busybox image: whatever comes next was pulled.
    for (const image of await docker.listImages()) await docker.getImage(image.Id).remove({ force: true });
    expect((await docker.listImages()).length).toBe(0);
  });

  afterAll(async () => {
    registry?.kill("SIGKILL");
    if (dir) rmSync(dir, { recursive: true, force: true });
    await engine?.stop();
    expect(docknetLeftovers()).toEqual([]);
  });

  test("no busybox and no --pull-probe: exit 3 in one line naming --pull-probe, and nothing is pulled", async () => {
    const before = registryLog.length;
    const out = await docknet(["run", "UB-01", "--engine", "current"], { env: noBusybox() });
    expect(out.code).toBe(3);
    expect(out.stderr.trim().split("\n").at(-1)).toMatch(
      /^docknet: no static busybox .*; or let docknet pull busybox:1\.37\.0@sha256:[0-9a-f]{64} \(--pull-probe\), or pass --probe-image IMAGE$/,
    );
    expect(registryLog.slice(before)).not.toMatch(/GET \/v2\/\w+\/manifests/);
    expect(await probeImages()).toEqual([]);
  });

  test("--pull-probe IMAGE: pulled from the registry, checked, and the run passes on it", async () => {
    const before = registryLog.length;
    const out = await docknet(["run", "UB-01", "--engine", "current", "--pull-probe", good, "--json", "-"], {
      env: noBusybox(),
    });
    expect(out.code, out.stderr).toBe(0);
    const report = JSON.parse(out.stdout) as { results: Array<{ id: string; status: string }> };
    expect(report.results).toMatchObject([{ id: "UB-01", status: "passed" }]);
    // The engine really asked the registry for it.
    expect(registryLog.slice(before)).toMatch(/GET \/v2\/busybox\/manifests\/sha256:/);
    const [derived] = await probeImages();
    expect(derived).toMatch(/^docknet-probe:pulled-[0-9a-f]{12}$/);
    // It is a probe: every applet the probe runs, and its directories.
    const container = await docker.createContainer({
      Image: derived!,
      Cmd: ["sh", "-c", "busybox --list; test -d /www && echo has-www"],
    });
    const stream = await container.attach({ stream: true, stdout: true, stderr: true });
    let listed = "";
    stream.on("data", (c: Buffer) => (listed += c.toString()));
    await container.start();
    await container.wait();
    await container.remove({ force: true });
    for (const applet of [...PROBE_APPLETS, "has-www"]) expect(listed).toContain(applet);
  });

  test("an image that is no busybox is refused, saying why", async () => {
    const out = await docknet(["run", "UB-01", "--engine", "current", "--pull-probe", broken], { env: noBusybox() });
    expect(out.code, out.stderr).toBe(3);
    expect(out.stderr.trim().split("\n").at(-1)).toMatch(
      /^docknet: 127\.0\.0\.1:5000\/broken@sha256:[0-9a-f]{64} cannot be docknet's probe: busybox --list exited [1-9]/,
    );
  });
});
