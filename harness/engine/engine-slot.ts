import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Engine } from "./engine.js";

/**
 * One DOCKER_HOST for private engines that a process starts one after
 * another: a symbolic link to the socket of whichever engine is current.
 * testcontainers connects once per process, to the DOCKER_HOST it first saw;
 * through the slot, a process can serve several engines in turn instead of
 * one process (Node and testcontainers loaded anew, about 1.5 CPU-seconds) per engine.
 */
export class EngineSlot {
  private readonly dir = mkdtempSync(join(tmpdir(), "docknet-slot-"));
  private readonly link = join(this.dir, "docker.sock");

  /** unix:///… : what testcontainers and dockerode are given. */
  get dockerHost(): string {
    return `unix://${this.link}`;
  }

  /** Points the slot at a unix-socket engine; the engine before it must be stopped already. */
  point(engine: Pick<Engine, "dockerHost">): void {
    if (!engine.dockerHost.startsWith("unix://"))
      throw new Error(`an engine slot holds engines on unix sockets, not ${engine.dockerHost}`);
    rmSync(this.link, { force: true });
    symlinkSync(engine.dockerHost.slice("unix://".length), this.link);
  }

  close(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
