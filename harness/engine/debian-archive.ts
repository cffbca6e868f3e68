import { randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { EngineUnavailable } from "../exit-codes.js";
import { findProgram, runCommand } from "../host-command.js";
import { matchesSpec, newestFirst } from "./engine-binaries.js";
import { withFetchLock } from "./fetch-lock.js";

/**
 * Debian's archive, read with a private apt: its own sources list, lists and
 * cache under a work directory, so the system's apt is never touched. Engine
 * and kernel fetches both download packages this way.
 */
export const DEBIAN_ARCHIVE = "http://deb.debian.org/debian";
/** The mirror a fetch reads: the one asked for (--archive), else $DOCKNET_DEBIAN_ARCHIVE, else Debian's own. */
export function debianArchive(asked?: string): string {
  return asked ?? process.env.DOCKNET_DEBIAN_ARCHIVE ?? DEBIAN_ARCHIVE;
}
const DEBIAN_KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg";

/** apt-get and apt-cache against a private sources list and state: the system's apt is never touched. */
export function aptOptions(dir: string): string[] {
  return [
    "-o",
    `Dir::Etc::SourceList=${join(dir, "sources.list")}`,
    "-o",
    "Dir::Etc::SourceParts=/dev/null",
    "-o",
    `Dir::State::Lists=${join(dir, "lists")}`,
    "-o",
    `Dir::Cache=${join(dir, "cache")}`,
    "-o",
    "Debug::NoLocking=1",
    "-o",
    "APT::Sandbox::User=root",
  ];
}

export function sourcesList(archive: string, suites: readonly string[]): string {
  // A mirror of Debian's archive is checked with Debian's keys; a local test archive (file:) is trusted as is.
  const option = archive.startsWith("file:") ? "[trusted=yes]" : `[signed-by=${DEBIAN_KEYRING}]`;
  return suites.map((suite) => `deb ${option} ${archive} ${suite} main\n`).join("");
}

/** `apt-cache madison PACKAGE` lines: "docker.io | 28.5.2+dfsg4-5 | http://… sid/main amd64 Packages". */
export function parseMadison(text: string, name = "docker.io"): Array<{ version: string; suite: string }> {
  return text
    .split("\n")
    .map((line) => line.split("|").map((f) => f.trim()))
    .filter((f) => f.length >= 3 && f[0] === name)
    .map((f) => ({ version: f[1]!, suite: /\s(\w+)\/main\b/.exec(f[2]!)?.[1] ?? "?" }));
}

/**
 * The newest candidate madison lists of a suite, or whose upstream version (as UPSTREAM reads a
 * Debian version) matches; none is one line naming what the archive offers (exit 3).
 */
export function newestCandidate(
  madison: ReadonlyArray<{ version: string; suite: string }>,
  wanted: { suite: string } | { version: string },
  upstream: (debianVersion: string) => string,
  asked: { package: string; spec: string; archive: string; suites: readonly string[] },
): { version: string; suite: string } {
  const chosen = madison
    .filter((c) => matchesSpec(wanted, { suite: c.suite, version: upstream(c.version) }))
    .sort(newestFirst)[0];
  if (chosen) return chosen;
  const offered = madison.map((c) => `${upstream(c.version)} (${c.suite})`).join(", ") || "none";
  throw new EngineUnavailable(
    `no ${asked.package} ${asked.spec} in ${asked.archive} (${asked.suites.join(", ")} offer: ${offered})`,
  );
}

/**
 * Makes WORK a private apt for SUITES of ARCHIVE and reads their package
 * lists; a failure is one line naming the archive (exit 3 in the CLI).
 */
export async function readPackageLists(work: string, archive: string, suites: readonly string[]): Promise<void> {
  mkdirSync(join(work, "lists", "partial"), { recursive: true });
  mkdirSync(join(work, "cache", "archives", "partial"), { recursive: true });
  writeFileSync(join(work, "sources.list"), sourcesList(archive, suites));
  const update = await runCommand("apt-get", [...aptOptions(work), "--error-on=any", "update"], { timeoutMs: 300_000 });
  if (update.code !== 0) {
    const why = (update.stderr || update.stdout)
      .split("\n")
      .filter((l) => /^(E|W|Err):/.test(l))
      .slice(0, 2)
      .join(" ")
      .trim();
    throw new EngineUnavailable(
      `cannot read Debian's archive at ${archive}: ${why || `apt-get update exited ${update.code}`}`,
    );
  }
}

/** Downloads PACKAGE=VERSION into WORK; the .deb's path. */
export async function downloadPackage(work: string, name: string, version: string): Promise<string> {
  const download = await runCommand("apt-get", [...aptOptions(work), "download", `${name}=${version}`], {
    cwd: work,
    timeoutMs: 600_000,
  });
  const deb = readdirSync(work).find((f) => f.startsWith(`${name}_`) && f.endsWith(".deb"));
  if (download.code !== 0 || !deb)
    throw new EngineUnavailable(
      `downloading ${name} ${version} failed: ${download.stderr.trim().split("\n").at(-1) ?? ""}`,
    );
  return join(work, deb);
}

/** Downloads each package's candidate (the suite the lists were read for) into WORK, in one apt call; the .debs' paths. */
export async function downloadPackages(work: string, names: readonly string[]): Promise<string[]> {
  const download = await runCommand("apt-get", [...aptOptions(work), "download", ...names], {
    cwd: work,
    timeoutMs: 600_000,
  });
  if (download.code !== 0)
    throw new EngineUnavailable(
      `downloading ${names.join(", ")} failed: ${download.stderr.trim().split("\n").at(-1) ?? ""}`,
    );
  const debs = readdirSync(work).filter((f) => f.endsWith(".deb"));
  const missing = names.filter((name) => !debs.some((f) => f.startsWith(`${name}_`)));
  if (missing.length) throw new EngineUnavailable(`apt-get download brought no ${missing.join(", ")}`);
  return debs.map((f) => join(work, f));
}

/**
 * The frame of every fetch from the archive (engines, the VM's kernel, Compose): apt and dpkg are
 * there, the cache is locked against other fetches, what a killed fetch left is cleared, and the
 * work directory is removed whatever happens. Nothing half-made reaches the cache: WORK renames
 * its result into place only when complete.
 */
export async function withFetchWorkspace<T>(
  cacheDir: string,
  fetching: string,
  say: (line: string) => void,
  work: (workDir: string) => Promise<T>,
): Promise<T> {
  for (const tool of ["apt-get", "apt-cache", "dpkg-deb"]) {
    if (!(await findProgram(tool)))
      throw new EngineUnavailable(`${tool} is not installed: ${fetching} needs Debian's apt and dpkg`);
  }
  mkdirSync(cacheDir, { recursive: true });
  return withFetchLock(
    cacheDir,
    (pid) => say(`waiting for another fetch${pid ? ` (pid ${pid})` : ""}...`),
    async () => {
      // Under the lock no other fetch runs: a work directory left here belongs to a fetch that was killed.
      for (const entry of readdirSync(cacheDir))
        if (entry.startsWith(".fetch-")) rmSync(join(cacheDir, entry), { recursive: true, force: true });
      const workDir = join(cacheDir, `.fetch-${randomBytes(4).toString("hex")}`);
      try {
        return await work(workDir);
      } finally {
        rmSync(workDir, { recursive: true, force: true });
      }
    },
  );
}
