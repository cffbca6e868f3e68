import Docker from "dockerode";
import { engineInfoText } from "../../reports/engine-info.js";
import { engineJson, enginesJson } from "../../reports/json.js";
import { detectCapabilities } from "../capabilities.js";
import { engineHostNamespace } from "../engine/current-engine-outside.js";
import { dockerodeOptions } from "../engine/docker-host.js";
import { cachedEngines, engineCacheDir, systemEngine } from "../engine/engine-binaries.js";
import type { EngineChoice } from "../engine/engine.js";
import { fetchEngine } from "../engine/engine-fetch.js";
import { selectEngine } from "../engine/select-engine.js";

/** docknet engine fetch: Debian's docker.io of each suite or version into the cache. */
export async function engineFetchAction(specs: string[], flags: { archive?: string; verify: boolean }): Promise<void> {
  for (const spec of specs) {
    const { engine, how } = await fetchEngine(spec, {
      ...(flags.archive ? { archive: flags.archive } : {}),
      verify: flags.verify,
      onProgress: (line) => process.stderr.write(`${spec}: ${line}\n`),
    });
    const said = { fetched: "fetched", cached: "already cached", system: "is the system's own dockerd" }[how];
    process.stderr.write(
      `${spec}: dockerd ${engine.version} ${said}${engine.suite ? ` (${engine.suite})` : ""}: ${engine.dockerd}\n`,
    );
  }
}

/** docknet engine kernel: the VM's stock kernel into the cache. */
export async function engineKernelAction(flags: { archive?: string }): Promise<void> {
  const { fetchKernel } = await import("../kernel-vm/kernel-fetch.js");
  const kernel = await fetchKernel({
    ...(flags.archive ? { archive: flags.archive } : {}),
    onProgress: (line) => process.stderr.write(`kernel: ${line}\n`),
  });
  process.stderr.write(`kernel: ${kernel.package} (${kernel.release}) in the cache: ${kernel.dir}\n`);
}

/** docknet engine compose: Debian's Compose v2 into the cache, for the compose scenarios. */
export async function engineComposeAction(suite: string | undefined, flags: { archive?: string }): Promise<void> {
  const { fetchCompose } = await import("../engine/compose-binaries.js");
  const { compose, how } = await fetchCompose(suite, {
    ...(flags.archive ? { archive: flags.archive } : {}),
    onProgress: (line) => process.stderr.write(`compose: ${line}\n`),
  });
  process.stderr.write(
    `compose: Docker Compose ${compose.version} (${compose.package}, ${compose.suite}) ${how === "cached" ? "already cached" : "fetched"}: ${compose.binary}\n`,
  );
}

/** docknet engine podman: Debian's Podman of each suite or version into the cache, as a bundle that runs here. */
export async function enginePodmanAction(specs: string[], flags: { archive?: string }): Promise<void> {
  const { fetchPodman } = await import("../engine/podman-binaries.js");
  for (const spec of specs) {
    const { podman, how } = await fetchPodman(spec, {
      ...(flags.archive ? { archive: flags.archive } : {}),
      onProgress: (line) => process.stderr.write(`podman ${spec}: ${line}\n`),
    });
    process.stderr.write(
      `podman ${spec}: Podman ${podman.version} (${podman.package}, ${podman.suite}) ${how === "cached" ? "already cached" : "fetched"}: ${podman.podman}\n`,
    );
  }
}

/** docknet engine info: what docknet detects of an engine. */
export async function engineInfoAction(flags: { engine: EngineChoice; json?: boolean }): Promise<void> {
  const engine = await selectEngine(flags.engine);
  try {
    // The engine's host is read from the namespace its dockerd runs in, when docknet can enter it.
    const located = await engineHostNamespace(engine);
    const hostNetns = "netns" in located ? { hostNetns: located.netns } : {};
    const facts = await detectCapabilities(new Docker(dockerodeOptions(engine.dockerHost)), {
      ...engine,
      ...hostNetns,
    });
    if (flags.json) process.stdout.write(engineJson(engine.description, facts));
    else process.stdout.write(engineInfoText(engine.description, facts));
  } finally {
    await engine.stop();
  }
}

/** docknet engine list: the system's dockerd and the cached ones. */
export async function engineListAction(flags: { json?: boolean }): Promise<void> {
  const system = await systemEngine();
  const engines = [...(system ? [system] : []), ...cachedEngines()];
  if (flags.json) {
    process.stdout.write(enginesJson(engineCacheDir(), engines));
    return;
  }
  for (const e of engines) {
    const status = e.corrupt
      ? `CORRUPT: ${e.corrupt} (docknet engine fetch ${e.version.split(".").slice(0, 2).join(".")} replaces it)`
      : "ok";
    process.stdout.write(
      `${e.version.padEnd(22)} ${(e.source === "system" ? "system" : (e.suite ?? "cache")).padEnd(9)} ${status.padEnd(4)} ${e.dockerd}\n`,
    );
  }
  process.stderr.write(`${engines.length} engine(s); cache: ${engineCacheDir()}\n`);
  // Engine 29 is not in Debian yet: its scenarios (since 29.0) skip on these, and run on a user's own 29.
  process.stderr.write(
    "any Debian suite's docker.io is one `docknet engine fetch SUITE` away (bookworm, trixie, sid, …): an Engine 29 there is fetched the same way\n",
  );
  const { cachedComposes } = await import("../engine/compose-binaries.js");
  const composes = cachedComposes();
  process.stderr.write(
    composes.length
      ? `compose: ${composes.map((c) => `${c.version} (${c.suite})`).join(", ")}; the compose scenarios run the newest\n`
      : "compose: none cached; `docknet engine compose` fetches Debian's Compose v2 for the compose scenarios\n",
  );
}
