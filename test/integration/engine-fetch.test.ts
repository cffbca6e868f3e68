import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { tempDir } from "../temp-dir.js";
import { docknetLeftovers } from "./leftovers.js";
import { docknet } from "./run-cli.js";

const sha256 = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");

/**
 * A Debian-style archive on disk (file:, so nothing leaves the machine) whose
 * suite "sid" offers docker.io, repackaged from the system's own dockerd.
 */
function localArchive(options: { missingDeb?: boolean } = {}): string {
  const root = tempDir("archive");
  const pkg = join(root, "build");
  mkdirSync(join(pkg, "DEBIAN"), { recursive: true });
  mkdirSync(join(pkg, "usr", "sbin"), { recursive: true });
  for (const file of ["dockerd", "docker-proxy"]) copyFileSync(`/usr/sbin/${file}`, join(pkg, "usr", "sbin", file));
  writeFileSync(
    join(pkg, "DEBIAN", "control"),
    "Package: docker.io\nVersion: 99.0-1\nArchitecture: amd64\nMaintainer: docknet tests <tests@docknet.invalid>\nDescription: an engine for docknet's fetch tests\n",
  );
  mkdirSync(join(root, "pool"));
  const deb = join(root, "pool", "docker.io_99.0-1_amd64.deb");
  execFileSync("dpkg-deb", ["-Znone", "--build", pkg, deb], { stdio: "ignore" });
  const packages = `Package: docker.io\nVersion: 99.0-1\nArchitecture: amd64\nMaintainer: docknet tests <tests@docknet.invalid>\nFilename: pool/docker.io_99.0-1_amd64.deb\nSize: ${statSync(deb).size}\nSHA256: ${sha256(deb)}\nDescription: an engine for docknet's fetch tests\n\n`;
  if (options.missingDeb) execFileSync("rm", [deb]);
  const dist = join(root, "dists", "sid");
  mkdirSync(join(dist, "main", "binary-amd64"), { recursive: true });
  writeFileSync(join(dist, "main", "binary-amd64", "Packages"), packages);
  const release = `Origin: docknet-tests\nSuite: sid\nCodename: sid\nDate: ${new Date().toUTCString()}\nArchitectures: amd64\nComponents: main\nSHA256:\n ${createHash("sha256").update(packages).digest("hex")} ${Buffer.byteLength(packages)} main/binary-amd64/Packages\n`;
  writeFileSync(join(dist, "Release"), release);
  return `file:${root}`;
}

/** What the cache directory holds: nothing half-written may ever be among it. */
const cacheEntries = (cache: string) => (existsSync(join(cache, "dockerd")) ? readdirSync(join(cache, "dockerd")) : []);

describe("docknet engine fetch", () => {
  test("an archive that does not answer: one clear line, exit 3, nothing in the cache", async () => {
    const cache = tempDir("cache");
    const out = await docknet(["engine", "fetch", "sid", "--archive", "http://127.0.0.1:9/debian"], {
      env: { DOCKNET_CACHE_DIR: cache },
    });
    expect(out.code).toBe(3);
    expect(out.stderr.trim().split("\n").at(-1)).toMatch(
      /^docknet: cannot read Debian's archive at http:\/\/127\.0\.0\.1:9\/debian: /,
    );
    expect(cacheEntries(cache)).toEqual([]);
  });

  test("a package the archive lists but cannot deliver: exit 3, nothing in the cache", async () => {
    const cache = tempDir("cache");
    const out = await docknet(["engine", "fetch", "sid", "--archive", localArchive({ missingDeb: true })], {
      env: { DOCKNET_CACHE_DIR: cache },
    });
    expect(out.code).toBe(3);
    expect(out.stderr).toMatch(/docknet: downloading docker\.io 99\.0-1 failed/);
    expect(cacheEntries(cache)).toEqual([]);
  });

  test("fetch verifies the engine starts, caches it once, and a second fetch finds it cached", async () => {
    const cache = tempDir("cache");
    const archive = localArchive();
    const env = { DOCKNET_CACHE_DIR: cache };
    const first = await docknet(["engine", "fetch", "sid", "--archive", archive], { env });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/checking that dockerd 20\.10\.\S+ starts/);
    expect(first.stderr).toMatch(/sid: dockerd 20\.10\.\S+ fetched \(sid\)/);
    const again = await docknet(["engine", "fetch", "sid", "--archive", archive], { env });
    expect(again.stderr).toMatch(/already cached/);
    const list = (
      JSON.parse((await docknet(["engine", "list", "--json"], { env })).stdout) as {
        engines: { version: string; source: string; corrupt?: string }[];
      }
    ).engines;
    expect(list.filter((e) => e.source === "cache").map((e) => [e.version.split(".")[0], e.corrupt])).toEqual([
      ["20", undefined],
    ]);
    expect(cacheEntries(cache)).toHaveLength(1);
    expect(docknetLeftovers()).toEqual([]);
  });

  test("a corrupt cached binary is detected by list and replaced by the next fetch, which also clears a killed fetch's leftovers", async () => {
    const cache = tempDir("cache");
    const archive = localArchive();
    const env = { DOCKNET_CACHE_DIR: cache };
    expect((await docknet(["engine", "fetch", "sid", "--archive", archive, "--no-verify"], { env })).code).toBe(0);
    const [version] = cacheEntries(cache);
    writeFileSync(join(cache, "dockerd", version!, "bin", "dockerd"), "not an engine");
    const listed = await docknet(["engine", "list"], { env });
    expect(listed.stdout).toMatch(/CORRUPT: .*dockerd changed since it was fetched/);
    // What a killed fetch leaves (its work directory) goes with the next fetch.
    mkdirSync(join(cache, "dockerd", ".fetch-killed", "root"), { recursive: true });
    const refetch = await docknet(["engine", "fetch", "sid", "--archive", archive, "--no-verify"], { env });
    expect(refetch.code, refetch.stderr).toBe(0);
    expect(refetch.stderr).toMatch(/is unusable .*: fetching it again/);
    expect((await docknet(["engine", "list"], { env })).stdout).not.toMatch(/CORRUPT/);
    expect(readdirSync(join(cache, "dockerd"))).toEqual([version]);
  });

  test("three fetches at once: one fetches, the others wait and find it cached", async () => {
    // Three, not two: the lock must hold when two waiters see it at the same moment.
    const cache = tempDir("cache");
    const archive = localArchive();
    const env = { DOCKNET_CACHE_DIR: cache };
    const outs = await Promise.all(
      [1, 2, 3].map(() => docknet(["engine", "fetch", "sid", "--archive", archive, "--no-verify"], { env })),
    );
    expect(
      outs.map((o) => o.code),
      outs.map((o) => o.stderr).join("\n"),
    ).toEqual([0, 0, 0]);
    const said = outs.map((o) => o.stderr);
    expect(said.filter((s) => /fetched \(sid\)/.test(s))).toHaveLength(1);
    expect(said.filter((s) => /already cached/.test(s))).toHaveLength(2);
    expect(said.filter((s) => /waiting for another fetch/.test(s))).toHaveLength(2);
    expect(readdirSync(join(cache, "dockerd"))).toHaveLength(1);
  });

  test("bad input: an unknown suite or version is exit 2 in one line", async () => {
    const out = await docknet(["engine", "fetch", "latest"]);
    expect(out.code).toBe(2);
    expect(out.stderr.trim().split("\n")).toEqual([
      expect.stringMatching(/^docknet: "latest" is neither a Debian suite/),
    ]);
    expect((await docknet(["run", "--engine-version", "newest"])).code).toBe(2);
    expect((await docknet(["run", "--matrix", "28"])).code).toBe(2);
    // bookworm's docker-compose is the Python 1.29: refused before the archive is asked.
    const compose = await docknet(["engine", "compose", "bookworm"]);
    expect(compose.code).toBe(2);
    expect(compose.stderr.trim().split("\n")).toEqual([
      expect.stringMatching(/^docknet: "bookworm" is not a Debian suite with Compose v2 .*Python 1\.29/),
    ]);
    // A Podman of a suite or version: the same words, before the archive is asked.
    const podman = await docknet(["engine", "podman", "latest"]);
    expect(podman.code).toBe(2);
    expect(podman.stderr.trim().split("\n")).toEqual([
      expect.stringMatching(/^docknet: "latest" is neither a Debian suite .* nor a Podman version such as 5 or 5\.4$/),
    ]);
    expect((await docknet(["run", "--engine", "podman", "--engine-version", "newest"])).code).toBe(2);
  });
});
