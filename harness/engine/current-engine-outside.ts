import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { subnetsOverlap } from "../cidr.js";
import { findDockerdServing, LIST_DOCKERD, parseDockerdListing } from "../doctor/dockerd-process.js";
import { isProcessAlive, runCommand } from "../host-command.js";
import { findStaticBusybox } from "../static-busybox.js";
import { listNamespaces, removeNamespace, runInNetns, type NetnsRef } from "./netns.js";
import type { Engine } from "./engine.js";
import { createOutsideHost, sharedHostAddressing, type OutsideHost } from "./outside-host.js";
import { stateRoot } from "./private-engine.js";

/**
 * The outside host of an engine docknet did not start (the current engine,
 * when it runs on this machine and docknet is root): a namespace of
 * docknet's, linked to the namespace that engine's dockerd runs in by a /30
 * of its own. Unlike a private engine's, the engine's host keeps its routes:
 * only the /30 leads to the outside host, so nothing else on the host changes,
 * and no packet can go further than the outside host.
 */
export interface CurrentEngineOutside {
  readonly outsideHost: OutsideHost;
  /** Removes the outside host and its links; the engine's host is left as it was. */
  stop(): Promise<void>;
}

/** Why there is no outside host for the current engine, in words scenarios skip with. */
export interface NoOutsideHost {
  readonly missing: string;
}

/** What `docknet clean` needs to remove an outside host whose run died. */
interface OutsideState {
  readonly id: string;
  readonly ownerPid: number;
  readonly netns: string;
}

// Docknet's own ranges on a shared host: the outside links' /30s and the macvlan LANs (10.216.<n>.0/24).
const OUTSIDE_RANGE = "10.213.255.0/24";
const LAN_RANGE = "10.216.0.0/16";

function outsideDir(): string {
  return join(stateRoot(), "outside");
}

/**
 * Where docknet can run commands on an engine's host: a private engine's own
 * namespace, or the one a local engine's dockerd runs in (as root); else why not.
 */
export async function engineHostNamespace(
  engine: Pick<Engine, "kind" | "netns" | "hostNetns" | "dockerHost" | "remote">,
  notRoot?: string,
): Promise<{ netns: NetnsRef } | { missing: string }> {
  if (engine.hostNetns) return { netns: engine.hostNetns };
  if (engine.netns) return { netns: engine.netns };
  if (engine.remote)
    return {
      missing:
        notRoot ||
        `the engine is on another host (${engine.remote}): docknet runs commands, and builds outside hosts, only on the machine it runs on`,
    };
  return localEngineNamespace(engine.dockerHost, notRoot);
}

/** The namespace a local engine's dockerd runs in, or why docknet cannot enter it. */
async function localEngineNamespace(
  dockerHost: string,
  notRoot = "docknet is not root",
): Promise<{ netns: NetnsRef } | { missing: string }> {
  if (process.getuid?.() !== 0)
    return { missing: `${notRoot}: commands on the engine's host, and an outside host beside it, need root` };
  if (!dockerHost.startsWith("unix://"))
    return {
      missing: `engine ${dockerHost} is not on this machine: docknet builds outside hosts only beside engines it can reach as root`,
    };
  const dockerd = findDockerdServing(
    dockerHost,
    parseDockerdListing((await runCommand("sh", ["-c", LIST_DOCKERD], { timeoutMs: 10_000 })).stdout),
  );
  if (!dockerd)
    return {
      missing: `no dockerd on this machine serves ${dockerHost} (a rootless or containerised engine): its host is not docknet's to enter`,
    };
  return { netns: `/proc/${dockerd.pid}/ns/net` };
}

/**
 * Builds the outside host beside a local engine docknet did not start, whose
 * dockerd runs in `engineHostNetns` (engineHostNamespace), or says why it cannot.
 */
export async function openCurrentEngineOutside(
  engineHostNetns: NetnsRef,
): Promise<CurrentEngineOutside | NoOutsideHost> {
  let busybox: string;
  try {
    busybox = findStaticBusybox();
  } catch (error) {
    return { missing: `no outside host: ${(error as Error).message}` };
  }
  const routes = await hostRoutes(engineHostNetns);
  const clash = routes.find((route) => subnetsOverlap(route, LAN_RANGE));
  if (clash)
    return {
      missing: `no outside host: the engine's host routes ${clash}, which overlaps docknet's LAN range ${LAN_RANGE}`,
    };
  const slot = [...Array(64).keys()]
    .map(sharedHostAddressing)
    .find((a) => !routes.some((route) => subnetsOverlap(route, a.subnet)));
  if (!slot) return { missing: `no outside host: every /30 of ${OUTSIDE_RANGE} is routed on the engine's host` };

  const id = randomBytes(4).toString("hex");
  const state: OutsideState = { id, ownerPid: process.pid, netns: `docknet-outside-${id}` };
  const dir = join(outsideDir(), id);
  mkdirSync(dir, { recursive: true });
  // The state file comes first, so that a crash at any later step leaves something `clean` can find.
  writeFileSync(join(dir, "state.json"), JSON.stringify(state));
  const stop = () => removeOutside(state);
  try {
    const outsideHost = await createOutsideHost(engineHostNetns, state.netns, id, dir, busybox, slot);
    return { outsideHost, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Every IPv4 destination (of every routing table) and address of the engine's host, the default route aside. */
async function hostRoutes(netns: NetnsRef): Promise<string[]> {
  const [routes, addresses] = await Promise.all([
    runInNetns(netns, ["ip", "-4", "-j", "route", "show", "table", "all"], 5000),
    runInNetns(netns, ["ip", "-4", "-j", "addr", "show"], 5000),
  ]);
  const destinations = (JSON.parse(routes.stdout || "[]") as { dst: string }[])
    .map((r) => r.dst)
    .filter((d) => d !== "default");
  const own = (
    JSON.parse(addresses.stdout || "[]") as { addr_info?: { local: string; prefixlen: number }[] }[]
  ).flatMap((link) => (link.addr_info ?? []).map((a) => `${a.local}/${a.prefixlen}`));
  return [...destinations, ...own].map((d) => (d.includes("/") ? d : `${d}/32`));
}

/** The outside host's namespace goes, and with it every veth whose other end was on the engine's host. */
async function removeOutside(state: OutsideState): Promise<void> {
  // Its own namespace only: the engine's host is entered by path and never named, so it cannot be deleted here.
  await removeNamespace(state.netns);
  rmSync(join(outsideDir(), state.id), { recursive: true, force: true });
}

/** Outside hosts whose run died, and removes them; the number removed. */
export async function removeOrphanedOutsideHosts(): Promise<number> {
  const entries = existsSync(outsideDir()) ? readdirSync(outsideDir()) : [];
  let removed = 0;
  for (const id of entries) {
    let state: OutsideState = { id, ownerPid: 0, netns: `docknet-outside-${id}` };
    try {
      state = JSON.parse(readFileSync(join(outsideDir(), id, "state.json"), "utf8")) as OutsideState;
    } catch {
      // half-written: the id in the directory name is enough
    }
    if (isProcessAlive(state.ownerPid)) continue;
    await removeOutside(state);
    removed++;
  }
  // A namespace whose directory is already gone (a crash between the two removals).
  for (const netns of listNamespaces()) {
    const id = /^docknet-outside-([0-9a-f]+)$/.exec(netns)?.[1];
    if (!id || entries.includes(id)) continue;
    await removeNamespace(netns);
    removed++;
  }
  return removed;
}
