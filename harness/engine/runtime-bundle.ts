import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Readable } from "node:stream";
import { createGzip } from "node:zlib";
import { builtProgram } from "../built-program.js";
import { runCommand } from "../host-command.js";

/**
 * docknet as it runs here — this node, the C libraries it links and the
 * loader that links them, docknet's build and its production dependencies —
 * packed to run on an engine's host that is not this machine (an ssh://
 * engine, Docker Desktop's VM, the host of a container docknet runs in).
 * There it runs through its own loader, so the host's C library and Node (if
 * any) do not matter; only the architecture must match. Files keep their
 * absolute paths under the bundle's directory, so node resolves modules
 * exactly as it does here.
 */
export interface RuntimeBundle {
  /** Changes with any file of it: the name of the directory it is unpacked into, reused while it holds. */
  readonly id: string;
  /** Absolute paths of this machine to pack (files and directories). */
  readonly paths: readonly string[];
  /** Where the loader, node and docknet's CLI are, relative to the bundle's directory. */
  readonly loader: string;
  readonly libraryDirs: readonly string[];
  readonly node: string;
  readonly cli: string;
  /** The packed size, in bytes, before compression. */
  readonly bytes: number;
}

/** The C libraries and the loader a program links, as `ldd` lists them (absolute paths, no vdso). */
export function parseLdd(text: string): { libraries: string[]; loader: string | undefined } {
  const libraries: string[] = [];
  let loader: string | undefined;
  for (const line of text.split("\n")) {
    const linked = /=>\s+(\/\S+)\s+\(/.exec(line);
    if (linked) libraries.push(linked[1]!);
    const own = /^\s*(\/\S*ld-linux\S*)\s+\(/.exec(line);
    if (own) loader = own[1];
  }
  return { libraries, loader };
}

/** The directory holding a package's package.json, resolved from `from` as node does (node_modules up the tree). */
function packageDir(name: string, from: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, "node_modules", name);
    if (existsSync(join(candidate, "package.json"))) return realpathSync(candidate);
    if (dirname(dir) === dir) return undefined;
  }
}

function readManifest(dir: string): {
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
} {
  return JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
    dependencies?: Record<string, string>;
    optionalDependencies?: Record<string, string>;
  };
}

/**
 * The directories of every package `root` needs at run time (dependencies,
 * and optional ones that are installed), following node's resolution; a
 * package inside another one's directory is not listed twice.
 */
export function productionPackages(root: string): string[] {
  const found = new Set<string>();
  const visit = (dir: string, optional: boolean): void => {
    const manifest = readManifest(dir);
    const wanted = [
      ...Object.keys(manifest.dependencies ?? {}).map((name) => ({ name, optional })),
      ...Object.keys(manifest.optionalDependencies ?? {}).map((name) => ({ name, optional: true })),
    ];
    for (const { name, optional: mayMiss } of wanted) {
      const at = packageDir(name, dir);
      if (!at) {
        if (mayMiss) continue;
        throw new Error(`${name}, which ${dir} needs, is not installed`);
      }
      if (found.has(at)) continue;
      found.add(at);
      visit(at, mayMiss);
    }
  };
  visit(root, false);
  const all = [...found].sort();
  return all.filter((dir) => !all.some((other) => dir !== other && dir.startsWith(`${other}/`)));
}

/** Files under a directory with their sizes and modification times, for the bundle's id. */
function fingerprint(path: string, into: string[]): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) {
    into.push(`${path} ${stat.size} ${stat.mtimeMs}`);
    return stat.size;
  }
  let bytes = 0;
  for (const entry of readdirSync(path).sort()) bytes += fingerprint(join(path, entry), into);
  return bytes;
}

/** The bundle of docknet as it runs in this process. */
export async function runtimeBundle(): Promise<RuntimeBundle> {
  if (process.platform !== "linux") throw new Error(`docknet runs on ${process.platform} here, not on linux`);
  const node = realpathSync(process.execPath);
  const ldd = await runCommand("ldd", [node], { timeoutMs: 10_000 });
  const { libraries, loader } = parseLdd(ldd.stdout);
  if (ldd.code !== 0 || !loader) throw new Error(`cannot list what ${node} links (ldd: ${ldd.stderr.trim()})`);
  const cli = builtProgram("cli.js");
  const dist = dirname(dirname(cli));
  const root = dirname(dist);
  const paths = [node, loader, ...libraries, join(root, "package.json"), dist, ...productionPackages(root)];
  const listing: string[] = [process.version, process.arch];
  let bytes = 0;
  // Libraries are listed through their links (ld resolves by name): their targets' contents are packed.
  for (const path of paths) bytes += fingerprint(realpathSync(path), listing);
  return {
    id: createHash("sha256").update(listing.join("\n")).digest("hex").slice(0, 16),
    paths,
    loader: loader.slice(1),
    libraryDirs: [...new Set(libraries.map((lib) => dirname(lib).slice(1)))],
    node: node.slice(1),
    cli: cli.slice(1),
    bytes,
  };
}

/**
 * The bundle as a gzipped tar, every path under `prefix/` (links followed:
 * the host it goes to has none of their targets).
 */
export function bundleArchive(bundle: RuntimeBundle, prefix: string): Readable {
  const tar = spawn(
    "tar",
    [
      "-c",
      "-h",
      "-f",
      "-",
      "-C",
      "/",
      `--transform=s,^,${prefix}/,`,
      "--exclude=*.map",
      "--exclude=*.d.ts",
      ...bundle.paths.map((path) => path.slice(1)),
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let said = "";
  tar.stderr.on("data", (chunk: Buffer) => (said += chunk.toString()));
  const gzip = createGzip({ level: 1 });
  tar.on("exit", (code) => {
    if (code !== 0) gzip.destroy(new Error(`tar of docknet's runtime failed: ${said.trim() || `exit ${code}`}`));
  });
  return tar.stdout.pipe(gzip);
}

/** The command that runs node from the bundle unpacked at `dir`, through the bundle's own loader. */
export function bundledNode(bundle: RuntimeBundle, dir: string): string[] {
  return [
    join(dir, bundle.loader),
    "--library-path",
    bundle.libraryDirs.map((lib) => join(dir, lib)).join(":"),
    join(dir, bundle.node),
  ];
}
