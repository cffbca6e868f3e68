import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { cacheEntries, docknetCacheDir } from "../cache-dir.js";
import { EngineUnavailable, UsageError } from "../exit-codes.js";
import { findProgram, runCommand } from "../host-command.js";
import {
  aptOptions,
  debianArchive,
  downloadPackage,
  parseMadison,
  readPackageLists,
  withFetchWorkspace,
} from "./debian-archive.js";
import { hasSha256, sha256File } from "./verified-files.js";

/**
 * Docker Compose v2, as Debian ships it: the `docker-compose` package of trixie (2.26) or sid
 * (2.40) is one static Go binary, fetched like engines (a private apt, verified by running it,
 * cached by version). bookworm's `docker-compose` is the Python 1.29 and is refused.
 */
export const COMPOSE_SUITES = ["sid", "forky", "trixie"] as const;
export const DEFAULT_COMPOSE_SUITE = "trixie";

export interface CachedCompose {
  /** "2.26.1" as `docker-compose version --short` says it. */
  readonly version: string;
  readonly binary: string;
  readonly package: string;
  readonly suite: string;
}

interface ComposeRecord {
  readonly version: string;
  readonly package: string;
  readonly suite: string;
  readonly archive: string;
  readonly fetchedAt: string;
  readonly sha256: string;
}

/** ~/.cache/docknet/compose: one directory per version. */
export function composeCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(docknetCacheDir(env), "compose");
}

/** Compose versions in the cache whose binary is intact, newest first. */
export function cachedComposes(cacheDir = composeCacheDir()): CachedCompose[] {
  return cacheEntries(cacheDir, (dir): CachedCompose | undefined => {
    const record = JSON.parse(readFileSync(join(dir, "compose.json"), "utf8")) as ComposeRecord;
    const binary = join(dir, "docker-compose");
    if (!hasSha256(binary, record.sha256)) return undefined;
    return { version: record.version, binary, package: record.package, suite: record.suite };
  }).sort((a, b) => b.version.localeCompare(a.version, undefined, { numeric: true }));
}

/** "Docker Compose version v2.26.1" or "2.26.1" → "2.26.1"; a v1 ("docker-compose version 1.29.2, …") → undefined. */
export function parseComposeVersion(text: string): string | undefined {
  const version = /(?:^|version v?)(\d+\.\d+\.\d+)/m.exec(text.trim())?.[1];
  return version && Number(version.split(".")[0]) >= 2 ? version : undefined;
}

/** Puts Debian's Compose v2 of SUITE into the cache (idempotent: a cached one of that package is kept). */
export async function fetchCompose(
  suite: string = DEFAULT_COMPOSE_SUITE,
  options: { archive?: string; cacheDir?: string; onProgress?: (line: string) => void } = {},
): Promise<{ compose: CachedCompose; how: "fetched" | "cached" }> {
  const wanted = { stable: "trixie", testing: "forky", unstable: "sid" }[suite] ?? suite;
  if (!(COMPOSE_SUITES as readonly string[]).includes(wanted))
    throw new UsageError(
      `"${suite}" is not a Debian suite with Compose v2 (${COMPOSE_SUITES.join(", ")}; bookworm's is the Python 1.29)`,
    );
  const say = options.onProgress ?? (() => {});
  const cacheDir = options.cacheDir ?? composeCacheDir();
  const archive = debianArchive(options.archive);
  return withFetchWorkspace(cacheDir, "fetching Compose", say, async (work) => {
    say(`reading ${wanted}'s package lists from ${archive}...`);
    await readPackageLists(work, archive, [wanted]);
    const madison = parseMadison(
      (await runCommand("apt-cache", [...aptOptions(work), "madison", "docker-compose"])).stdout,
      "docker-compose",
    );
    const chosen = madison.find((c) => c.suite === wanted);
    if (!chosen) throw new EngineUnavailable(`no docker-compose in ${archive} (${wanted})`);
    const pkg = `docker-compose ${chosen.version}`;
    const existing = cachedComposes(cacheDir).find((c) => c.package === pkg);
    if (existing) return { compose: existing, how: "cached" as const };
    say(`downloading ${pkg} (${wanted})...`);
    const deb = await downloadPackage(work, "docker-compose", chosen.version);
    const root = join(work, "root");
    const extract = await runCommand("dpkg-deb", ["-x", deb, root], { timeoutMs: 120_000 });
    if (extract.code !== 0) throw new EngineUnavailable(`${deb} does not unpack: ${extract.stderr.trim()}`);
    const from = [
      join(root, "usr", "libexec", "docker", "cli-plugins", "docker-compose"),
      join(root, "usr", "lib", "docker", "cli-plugins", "docker-compose"),
      join(root, "usr", "bin", "docker-compose"),
    ].find(existsSync);
    if (!from) throw new EngineUnavailable(`${deb} holds no docker-compose binary`);
    const staged = join(work, "compose");
    mkdirSync(staged);
    const binary = join(staged, "docker-compose");
    copyFileSync(from, binary);
    chmodSync(binary, 0o755);
    const ran = await runCommand(binary, ["version"]);
    const version = parseComposeVersion(ran.stdout);
    if (!version)
      throw new EngineUnavailable(
        `the docker-compose of ${pkg} is not Compose v2 or does not run here: ${(ran.stdout + ran.stderr).trim().split("\n")[0] ?? ""}`,
      );
    const record: ComposeRecord = {
      version,
      package: pkg,
      suite: wanted,
      archive,
      fetchedAt: new Date().toISOString(),
      sha256: sha256File(binary),
    };
    writeFileSync(join(staged, "compose.json"), `${JSON.stringify(record, null, 2)}\n`);
    rmSync(join(cacheDir, version), { recursive: true, force: true });
    renameSync(staged, join(cacheDir, version));
    const compose = cachedComposes(cacheDir).find((c) => c.version === version);
    if (!compose) throw new EngineUnavailable(`the cached Compose ${version} failed its own check`);
    return { compose, how: "fetched" as const };
  });
}

/** The Compose v2 to run: the newest cached one, else a docker-compose on PATH that is v2. */
export async function findCompose(): Promise<{ version: string; binary: string } | undefined> {
  const cached = cachedComposes()[0];
  if (cached) return { version: cached.version, binary: cached.binary };
  const onPath = await findProgram("docker-compose");
  if (!onPath) return undefined;
  const version = parseComposeVersion((await runCommand(onPath, ["version"])).stdout);
  return version ? { version, binary: onPath } : undefined;
}
