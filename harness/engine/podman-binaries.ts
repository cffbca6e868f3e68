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
  downloadPackages,
  newestCandidate,
  parseMadison,
  readPackageLists,
  withFetchWorkspace,
} from "./debian-archive.js";
import { matchesSpec, newestFirst, versionMatches } from "./engine-binaries.js";
import { hasSha256, sha256File } from "./verified-files.js";

/**
 * A newer Podman than the machine's own, the way engines are fetched: Debian's podman of a suite
 * (trixie 5.4, sid 5.x), with the helpers it runs (conmon, netavark, aardvark-dns, crun, runc, and
 * nft, which trixie's netavark drives) and every library they load, down to that suite's C library.
 * Each binary is pointed at the bundle's own loader and libraries (patchelf), so a trixie Podman
 * runs on a bookworm host without touching the system; the bundle lives in the cache by version.
 */
export const PODMAN_SUITES = ["sid", "forky", "trixie", "bookworm"] as const;

/** The packages whose programs a private Podman runs, and where each package keeps its program. */
const PROGRAMS: Record<string, { pkg: string; paths: string[] }> = {
  podman: { pkg: "podman", paths: ["usr/bin/podman"] },
  conmon: { pkg: "conmon", paths: ["usr/bin/conmon"] },
  netavark: { pkg: "netavark", paths: ["usr/lib/podman/netavark", "usr/libexec/podman/netavark"] },
  "aardvark-dns": { pkg: "aardvark-dns", paths: ["usr/lib/podman/aardvark-dns", "usr/libexec/podman/aardvark-dns"] },
  crun: { pkg: "crun", paths: ["usr/bin/crun"] },
  runc: { pkg: "runc", paths: ["usr/sbin/runc", "usr/bin/runc"] },
  nft: { pkg: "nftables", paths: ["usr/sbin/nft"] },
};

export interface CachedPodman {
  /** Podman's own version ("5.4.2"). */
  readonly version: string;
  readonly podman: string;
  /** The directory of its helpers (conmon, netavark, aardvark-dns, crun, runc, nft): containers.conf's helper_binaries_dir. */
  readonly helpers: string;
  readonly package: string;
  readonly suite: string;
}

interface PodmanRecord {
  readonly version: string;
  readonly package: string;
  readonly suite: string;
  readonly archive: string;
  readonly fetchedAt: string;
  /** Every package the bundle was made of, with its version. */
  readonly packages: string[];
  readonly sha256: Record<string, string>;
}

/** ~/.cache/docknet/podman: one directory per Podman version. */
export function podmanCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(docknetCacheDir(env), "podman");
}

/** The Podman bundles in the cache whose programs are intact, newest first. */
export function cachedPodmans(cacheDir = podmanCacheDir()): CachedPodman[] {
  return cacheEntries(cacheDir, (dir): CachedPodman | undefined => {
    const record = JSON.parse(readFileSync(join(dir, "podman.json"), "utf8")) as PodmanRecord;
    const intact = Object.entries(record.sha256).every(([name, sum]) => hasSha256(join(dir, "bin", name), sum));
    if (!intact) return undefined;
    return {
      version: record.version,
      podman: join(dir, "bin", "podman"),
      helpers: join(dir, "bin"),
      package: record.package,
      suite: record.suite,
    };
  }).sort(newestFirst);
}

/** "podman version 5.4.2" → "5.4.2". */
export function parsePodmanVersion(text: string): string | undefined {
  return /podman version (\d+\.\d+\.\d+)/.exec(text)?.[1];
}

/** A suite name or a Podman version: "trixie", "stable", "5", "5.4". */
export function parsePodmanSpec(spec: string): { suite: string } | { version: string } {
  const word = spec.trim().toLowerCase();
  if (/^\d+(\.\d+){0,2}$/.test(word)) return { version: word };
  const suite = { stable: "trixie", testing: "forky", unstable: "sid", oldstable: "bookworm" }[word] ?? word;
  if ((PODMAN_SUITES as readonly string[]).includes(suite)) return { suite };
  throw new UsageError(
    `"${spec}" is neither a Debian suite (${PODMAN_SUITES.join(", ")}) nor a Podman version such as 5 or 5.4`,
  );
}

/**
 * The package names an `apt-cache depends` listing names as hard dependencies (Depends, PreDepends,
 * and each alternative of an or-group), without virtual packages ("<…>").
 */
export function parseDepends(text: string): string[] {
  const names = new Set<string>();
  for (const match of text.matchAll(/^\s+\|?(?:Pre)?Depends: (\S+)/gm)) {
    const name = match[1]!.replace(/:any$/, "");
    if (!name.startsWith("<")) names.add(name);
  }
  return [...names];
}

/** The libraries a program set needs: the closure of their dependencies on packages named lib* (libc6 among them). */
async function libraryClosure(work: string, roots: readonly string[]): Promise<string[]> {
  const seen = new Set<string>();
  let level = [...roots];
  while (level.length) {
    for (const name of level) seen.add(name);
    const depends = await runCommand("apt-cache", [
      ...aptOptions(work),
      "depends",
      ...["--no-recommends", "--no-suggests", "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances"],
      ...level,
    ]);
    if (depends.code !== 0) throw new EngineUnavailable(`apt-cache depends failed: ${depends.stderr.trim()}`);
    level = parseDepends(depends.stdout).filter((name) => name.startsWith("lib") && !seen.has(name));
  }
  return [...seen];
}

/** Puts Debian's Podman of a suite or version into the cache, as one bundle that runs on this machine. */
export async function fetchPodman(
  spec: string = "trixie",
  options: { archive?: string; cacheDir?: string; onProgress?: (line: string) => void } = {},
): Promise<{ podman: CachedPodman; how: "fetched" | "cached" }> {
  const wanted = parsePodmanSpec(spec);
  const say = options.onProgress ?? (() => {});
  const cacheDir = options.cacheDir ?? podmanCacheDir();
  const archive = debianArchive(options.archive);
  const patchelf = await findProgram("patchelf");
  if (!patchelf)
    throw new EngineUnavailable(
      "patchelf is not installed: apt-get install -y patchelf (it points a fetched Podman at the libraries fetched with it)",
    );
  return withFetchWorkspace(cacheDir, "fetching Podman", say, async (work) => {
    const suites = "suite" in wanted ? [wanted.suite] : [...PODMAN_SUITES];
    say(`reading the podman package lists of ${suites.join(", ")} from ${archive}...`);
    await readPackageLists(work, archive, suites);
    const madison = parseMadison(
      (await runCommand("apt-cache", [...aptOptions(work), "madison", "podman"])).stdout,
      "podman",
    );
    const upstream = (v: string) => v.replace(/^\d+:/, "").replace(/[+~-].*$/, "");
    const chosen = newestCandidate(madison, wanted, upstream, { package: "podman", spec, archive, suites });
    const pkg = `podman ${chosen.version}`;
    const existing = cachedPodmans(cacheDir).find((p) => p.package === pkg);
    if (existing) return { podman: existing, how: "cached" as const };
    // Every other package from the same suite as podman, so that its programs and libraries match.
    if (suites.length > 1) await readPackageLists(work, archive, [chosen.suite]);
    const programs = [...new Set(Object.values(PROGRAMS).map((p) => p.pkg))];
    const packages = await libraryClosure(work, programs);
    say(`downloading ${pkg} (${chosen.suite}) with ${packages.length - 1} packages it runs...`);
    const debs = await downloadPackages(work, packages);
    const root = join(work, "root");
    for (const deb of debs) {
      const extract = await runCommand("dpkg-deb", ["-x", deb, root], { timeoutMs: 120_000 });
      if (extract.code !== 0) throw new EngineUnavailable(`${deb} does not unpack: ${extract.stderr.trim()}`);
    }
    const version = upstream(chosen.version);
    // Its final place, which the programs' loader path names: they are made to run from there only.
    const final = join(cacheDir, version);
    const staged = join(work, "podman");
    mkdirSync(join(staged, "bin"), { recursive: true });
    mkdirSync(join(staged, "lib"), { recursive: true });
    for (const dir of ["usr/lib/x86_64-linux-gnu", "lib/x86_64-linux-gnu"]
      .map((d) => join(root, d))
      .filter(existsSync)) {
      const copy = await runCommand("cp", ["-a", `${dir}/.`, join(staged, "lib")]);
      if (copy.code !== 0) throw new EngineUnavailable(`copying ${dir}: ${copy.stderr.trim()}`);
    }
    const loader = join(final, "lib", "ld-linux-x86-64.so.2");
    if (!existsSync(join(staged, "lib", "ld-linux-x86-64.so.2")))
      throw new EngineUnavailable(
        `the libc6 of ${chosen.suite} has no ld-linux-x86-64.so.2 (docknet fetches Podman for amd64 only)`,
      );
    const sha256: Record<string, string> = {};
    for (const [name, { pkg: from, paths }] of Object.entries(PROGRAMS)) {
      const found = paths.map((p) => join(root, p)).find(existsSync);
      if (!found) throw new EngineUnavailable(`${from} of ${chosen.suite} holds no ${name}`);
      const binary = join(staged, "bin", name);
      copyFileSync(found, binary);
      chmodSync(binary, 0o755);
      // A program without an interpreter is static: it needs no loader of its own.
      if ((await runCommand(patchelf, ["--print-interpreter", binary])).code === 0) {
        const patched = await runCommand(patchelf, [
          ...["--set-interpreter", loader, "--force-rpath", "--set-rpath", join(final, "lib"), binary],
        ]);
        if (patched.code !== 0) throw new EngineUnavailable(`patchelf ${name}: ${patched.stderr.trim()}`);
      }
      sha256[name] = sha256File(binary);
    }
    const record: PodmanRecord = {
      version,
      package: pkg,
      suite: chosen.suite,
      archive,
      fetchedAt: new Date().toISOString(),
      packages: debs.map((d) => d.replace(/^.*\//, "").replace(/_amd64\.deb$/, "")),
      sha256,
    };
    writeFileSync(join(staged, "podman.json"), `${JSON.stringify(record, null, 2)}\n`);
    rmSync(final, { recursive: true, force: true });
    renameSync(staged, final);
    const ran = await runCommand(join(final, "bin", "podman"), ["--version"]);
    const podman = cachedPodmans(cacheDir).find((p) => p.package === pkg);
    if (parsePodmanVersion(ran.stdout) === undefined || !podman) {
      rmSync(final, { recursive: true, force: true });
      throw new EngineUnavailable(
        `the podman of ${pkg} does not run here: ${(ran.stderr || ran.stdout).trim().split("\n")[0] ?? ""}`,
      );
    }
    return { podman, how: "fetched" as const };
  });
}

/** A Podman to serve the API: its program, and the directory of its helpers when it is a fetched bundle. */
export interface PodmanBinaries {
  readonly version: string;
  readonly podman: string;
  readonly helpers?: string;
}

/** The machine's own podman (Debian's, with its netavark and aardvark-dns), if installed. */
export async function systemPodman(): Promise<PodmanBinaries | undefined> {
  const podman = await findProgram("podman");
  if (!podman) return undefined;
  const version = parsePodmanVersion((await runCommand(podman, ["--version"])).stdout);
  return version ? { version, podman } : undefined;
}

/** The Podman of a version or suite: the machine's own when it is that version, a cached one, else fetched now. */
export async function podmanOfVersion(spec: string, onProgress: (line: string) => void): Promise<PodmanBinaries> {
  const wanted = parsePodmanSpec(spec);
  if ("version" in wanted) {
    const system = await systemPodman();
    if (system && versionMatches(wanted.version, system.version)) return system;
  }
  const found = cachedPodmans().find((p) => matchesSpec(wanted, p));
  return found ?? (await fetchPodman(spec, { onProgress })).podman;
}
