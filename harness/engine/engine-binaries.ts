import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { findProgram, runCommand } from "../host-command.js";
import { docknetCacheDir } from "../cache-dir.js";
import { hasSha256 } from "./verified-files.js";

/** A dockerd docknet can start: the system's own, or one fetched from Debian's archive into the cache. */
export interface EngineBinaries {
  /** dockerd's own version, e.g. "28.5.2+dfsg4". */
  readonly version: string;
  readonly dockerd: string;
  readonly source: "system" | "cache";
  /** The Debian package and suite it came from (cached engines). */
  readonly package?: string;
  readonly suite?: string;
  /** Why a cached engine cannot be used (a binary changed since it was fetched). */
  readonly corrupt?: string;
}

/** What `engine fetch` records next to the binaries it extracted. */
export interface CachedEngineRecord {
  readonly version: string;
  readonly package: string;
  readonly suite: string;
  readonly archive: string;
  readonly fetchedAt: string;
  /** sha256 of each file in bin/, checked before every use. */
  readonly sha256: Readonly<Record<string, string>>;
}

/** ~/.cache/docknet/dockerd (or $DOCKNET_CACHE_DIR/dockerd): one directory per fetched version. */
export function engineCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(docknetCacheDir(env), "dockerd");
}

/** "Docker version 28.5.2+dfsg4, build 3ef3c07" -> "28.5.2+dfsg4" */
export function parseDockerdVersion(text: string): string | undefined {
  return /Docker version ([^\s,]+)/.exec(text)?.[1];
}

export async function systemEngine(): Promise<EngineBinaries | undefined> {
  const dockerd = await findProgram("dockerd");
  if (!dockerd) return undefined;
  const version = parseDockerdVersion((await runCommand(dockerd, ["--version"], { timeoutMs: 10_000 })).stdout);
  return version ? { version, dockerd, source: "system" } : undefined;
}

/** Whether a cached engine's files are still the ones fetched; a reason when not. */
export function integrityProblem(dir: string, record: CachedEngineRecord): string | undefined {
  for (const [file, sum] of Object.entries(record.sha256)) {
    const path = join(dir, "bin", file);
    if (!existsSync(path)) return `${path} is missing`;
    if (!hasSha256(path, sum)) return `${path} changed since it was fetched (sha256 mismatch)`;
  }
  return undefined;
}

export function cachedEngines(cacheDir = engineCacheDir()): EngineBinaries[] {
  if (!existsSync(cacheDir)) return [];
  const engines: EngineBinaries[] = [];
  for (const entry of readdirSync(cacheDir)) {
    if (entry.startsWith(".")) continue; // locks and fetches in progress
    const dir = join(cacheDir, entry);
    let record: CachedEngineRecord;
    try {
      record = JSON.parse(readFileSync(join(dir, "engine.json"), "utf8")) as CachedEngineRecord;
    } catch {
      engines.push({
        version: entry,
        dockerd: join(dir, "bin", "dockerd"),
        source: "cache",
        corrupt: `${join(dir, "engine.json")} is missing or unreadable`,
      });
      continue;
    }
    const corrupt = integrityProblem(dir, record);
    engines.push({
      version: record.version,
      dockerd: join(dir, "bin", "dockerd"),
      source: "cache",
      package: record.package,
      suite: record.suite,
      ...(corrupt ? { corrupt } : {}),
    });
  }
  return engines;
}

/** Whether a version ("28", "28.5", "26.1.5") names an engine version ("28.5.2+dfsg4"). */
export function versionMatches(wanted: string, version: string): boolean {
  const have = version.replace(/[^0-9.].*$/, "").split(".");
  return wanted.split(".").every((part, i) => have[i] === part);
}

/** Whether a candidate of SUITE at VERSION (its upstream version) is what a spec asks for: that suite, or that version. */
export function matchesSpec(
  wanted: { suite: string } | { version: string },
  candidate: { suite: string; version: string },
): boolean {
  return "suite" in wanted ? candidate.suite === wanted.suite : versionMatches(wanted.version, candidate.version);
}

/** Sorts versions (engine or Debian package versions) newest first, comparing their numbers as numbers. */
export const newestFirst = (a: { version: string }, b: { version: string }): number =>
  b.version.localeCompare(a.version, undefined, { numeric: true });

/** The newest usable engine (system or cached) of a version, or undefined. */
export async function findEngine(wanted: string, cacheDir = engineCacheDir()): Promise<EngineBinaries | undefined> {
  const system = await systemEngine();
  const candidates = [...(system ? [system] : []), ...cachedEngines(cacheDir)].filter(
    (e) => !e.corrupt && versionMatches(wanted, e.version),
  );
  return candidates.sort(newestFirst)[0];
}
