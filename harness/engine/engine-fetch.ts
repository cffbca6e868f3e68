import { chmodSync, copyFileSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { EngineUnavailable, UsageError } from "../exit-codes.js";
import { runCommand } from "../host-command.js";
import {
  cachedEngines,
  engineCacheDir,
  findEngine,
  integrityProblem,
  newestFirst,
  parseDockerdVersion,
  systemEngine,
  versionMatches,
  type CachedEngineRecord,
  type EngineBinaries,
} from "./engine-binaries.js";
import {
  aptOptions,
  debianArchive,
  downloadPackage,
  newestCandidate,
  parseMadison,
  readPackageLists,
  withFetchWorkspace,
} from "./debian-archive.js";
import { startPrivateEngine } from "./private-engine.js";
import { sha256File } from "./verified-files.js";

/** The suites searched for a version, newest first. */
export const ENGINE_SUITES = ["sid", "forky", "trixie", "bookworm"] as const;
const SUITE_ALIASES: Record<string, string> = {
  unstable: "sid",
  testing: "forky",
  stable: "trixie",
  oldstable: "bookworm",
};

export interface FetchOptions {
  /** A Debian mirror; DOCKNET_DEBIAN_ARCHIVE, else deb.debian.org. */
  readonly archive?: string;
  readonly cacheDir?: string;
  readonly onProgress?: (line: string) => void;
  /** Start the extracted dockerd once before caching it (default true). */
  readonly verify?: boolean;
}

export interface FetchOutcome {
  readonly engine: EngineBinaries;
  /** fetched: downloaded now; cached: was already there; system: the system's own dockerd is that version. */
  readonly how: "fetched" | "cached" | "system";
}

/** A suite name or a version: "sid", "trixie", "unstable", "28", "26.1". */
export function parseEngineSpec(spec: string): { suite: string } | { version: string } {
  const word = spec.trim().toLowerCase();
  if (/^\d+(\.\d+){0,2}$/.test(word)) return { version: word };
  const suite = SUITE_ALIASES[word] ?? word;
  if ((ENGINE_SUITES as readonly string[]).includes(suite)) return { suite };
  throw new UsageError(
    `"${spec}" is neither a Debian suite (${[...ENGINE_SUITES, ...Object.keys(SUITE_ALIASES)].join(", ")}) nor an engine version such as 26 or 28.5`,
  );
}

/** The Debian package version ("28.5.2+dfsg4-5") as dockerd will report it ("28.5.2+dfsg4"), for matching. */
const upstream = (debianVersion: string) => debianVersion.replace(/^\d+:/, "").replace(/-[^-]*$/, "");

/**
 * Puts a dockerd (with its docker-proxy) of a Debian suite or an engine
 * version into the cache. Idempotent; a corrupt cached copy is replaced;
 * nothing half-written is ever left in the cache (work happens in a temporary
 * directory that is renamed into place only when complete and verified).
 */
export async function fetchEngine(spec: string, options: FetchOptions = {}): Promise<FetchOutcome> {
  const wanted = parseEngineSpec(spec);
  const say = options.onProgress ?? (() => {});
  const cacheDir = options.cacheDir ?? engineCacheDir();
  const archive = debianArchive(options.archive);
  if ("version" in wanted) {
    const system = await systemEngine();
    if (system && versionMatches(wanted.version, system.version)) return { engine: system, how: "system" };
  }
  return withFetchWorkspace(cacheDir, "engine fetch", say, async (work) => {
    // Under the lock no other fetch runs: a work directory left here belongs to a fetch that was killed.
    const suites = "suite" in wanted ? [wanted.suite] : [...ENGINE_SUITES];
    say(`reading the docker.io package lists of ${suites.join(", ")} from ${archive}...`);
    await readPackageLists(work, archive, suites);
    const madison = parseMadison((await runCommand("apt-cache", [...aptOptions(work), "madison", "docker.io"])).stdout);
    const chosen = newestCandidate(madison, wanted, upstream, { package: "docker.io", spec, archive, suites });
    // The same package already cached (by its Debian version: what was fetched, not what it calls itself).
    const existing = cachedEngines(cacheDir).find((e) => e.package === `docker.io ${chosen.version}`);
    if (existing && !existing.corrupt) return { engine: existing, how: "cached" as const };
    if (existing?.corrupt) say(`cached ${existing.version} is unusable (${existing.corrupt}): fetching it again`);

    say(`downloading docker.io ${chosen.version} (${chosen.suite})...`);
    const deb = await downloadPackage(work, "docker.io", chosen.version);
    const root = join(work, "root");
    const extract = await runCommand("dpkg-deb", ["-x", deb, root], { timeoutMs: 120_000 });
    if (extract.code !== 0) throw new EngineUnavailable(`${deb} does not unpack: ${extract.stderr.trim()}`);

    const staged = join(work, "engine");
    mkdirSync(join(staged, "bin"), { recursive: true });
    const sha256: Record<string, string> = {};
    for (const file of ["dockerd", "docker-proxy"]) {
      const from = [
        join(root, "usr", "sbin", file),
        join(root, "usr", "bin", file),
        join(root, "usr", "libexec", "docker", file),
      ].find(existsSync);
      if (!from) throw new EngineUnavailable(`${deb} has no ${file}`);
      copyFileSync(from, join(staged, "bin", file));
      chmodSync(join(staged, "bin", file), 0o755);
      sha256[file] = sha256File(join(staged, "bin", file));
    }
    const reported = parseDockerdVersion((await runCommand(join(staged, "bin", "dockerd"), ["--version"])).stdout);
    if (!reported) throw new EngineUnavailable(`the dockerd of ${deb} does not run on this machine`);
    const record: CachedEngineRecord = {
      version: reported,
      package: `docker.io ${chosen.version}`,
      suite: chosen.suite,
      archive,
      fetchedAt: new Date().toISOString(),
      sha256,
    };
    writeFileSync(join(staged, "engine.json"), `${JSON.stringify(record, null, 2)}\n`);
    if (options.verify !== false) {
      say(`checking that dockerd ${reported} starts...`);
      const engine = await startPrivateEngine({ dockerd: join(staged, "bin", "dockerd") });
      await engine.stop();
    }
    rmSync(join(cacheDir, reported), { recursive: true, force: true });
    renameSync(staged, join(cacheDir, reported));
    const problem = integrityProblem(join(cacheDir, reported), record);
    if (problem) throw new EngineUnavailable(`the cached engine failed its own check: ${problem}`);
    return {
      engine: {
        version: reported,
        dockerd: join(cacheDir, reported, "bin", "dockerd"),
        source: "cache",
        package: record.package,
        suite: record.suite,
      },
      how: "fetched" as const,
    };
  });
}

/** The dockerd of a version or suite: the system's, a cached one, or fetched now. */
export async function engineOfVersion(spec: string, onProgress: (line: string) => void): Promise<EngineBinaries> {
  const wanted = parseEngineSpec(spec);
  // What is at hand first: a run never reaches the archive for an engine it already has.
  const found =
    "version" in wanted
      ? await findEngine(wanted.version)
      : cachedEngines()
          .filter((e) => e.suite === wanted.suite && !e.corrupt)
          .sort(newestFirst)[0];
  return found ?? (await fetchEngine(spec, { onProgress })).engine;
}
