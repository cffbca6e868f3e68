import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isProcessAlive } from "../host-command.js";
import type { Engine } from "./engine.js";

export const SLOT_PREFIX = "docknet-slot-";
const OWNER_FILE = "owner";

/**
 * One DOCKER_HOST for private engines that a process starts one after
 * another: a symbolic link to the socket of whichever engine is current.
 * testcontainers connects once per process, to the DOCKER_HOST it first saw;
 * through the slot, a process can serve several engines in turn instead of
 * one process (Node and testcontainers loaded anew, about 1.5 CPU-seconds) per engine.
 */
export class EngineSlot {
  private readonly dir = mkdtempSync(join(tmpdir(), SLOT_PREFIX));
  private readonly link = join(this.dir, "docker.sock");

  constructor() {
    // Whose it is: `docknet clean` removes the slot of a process that was killed (removeDeadEngineSlots).
    writeFileSync(join(this.dir, OWNER_FILE), String(process.pid));
  }

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

/** Removes the slots of processes that are gone (killed before they could); how many. */
export function removeDeadEngineSlots(): number {
  let removed = 0;
  for (const name of readdirSync(tmpdir()).filter((entry) => entry.startsWith(SLOT_PREFIX))) {
    const dir = join(tmpdir(), name);
    const ownerFile = join(dir, OWNER_FILE);
    if (existsSync(ownerFile) && isProcessAlive(Number(readFileSync(ownerFile, "utf8")))) continue;
    rmSync(dir, { recursive: true, force: true });
    removed += 1;
  }
  return removed;
}
