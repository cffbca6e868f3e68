import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { arch } from "node:os";
import { join } from "node:path";
import { hasSha256, sha256File } from "../engine/verified-files.js";
import {
  aptOptions,
  debianArchive,
  downloadPackage,
  parseMadison,
  readPackageLists,
  withFetchWorkspace,
} from "../engine/debian-archive.js";
import { EngineUnavailable } from "../exit-codes.js";
import { runCommand } from "../host-command.js";
import { docknetCacheDir } from "../cache-dir.js";

/**
 * A stock Debian kernel for docknet's VM: the kernel users' distributions
 * ship, with ipvlan, 802.1Q, dummy, IPVS and ESP as loadable modules (this
 * machine's own kernel may lack them). Fetched once from Debian's archive
 * into the cache, like engines, and checked by sha256 on every use.
 */
export const KERNEL_SUITE = "bookworm";
/** Debian's metapackage for the suite's current stock kernel. */
const KERNEL_METAPACKAGE = "linux-image-amd64";
/** What of the modules tree is kept: networking, crypto, file systems, virtio; not sound or hardware drivers. */
const KEPT_MODULES = [
  "arch",
  "crypto",
  "lib",
  "mm",
  "block",
  "net",
  "fs",
  "virt",
  "drivers/net",
  "drivers/virtio",
  "drivers/block",
  "drivers/char",
];

export interface KernelRecord {
  /** `uname -r` inside the VM: "6.1.0-57-amd64". */
  readonly release: string;
  /** The Debian package and its version: "linux-image-6.1.0-57-amd64 6.1.192-3". */
  readonly package: string;
  readonly suite: string;
  readonly archive: string;
  readonly fetchedAt: string;
  readonly sha256: { readonly vmlinuz: string; readonly config: string; readonly kmod: string };
}

export interface CachedKernel extends KernelRecord {
  readonly dir: string;
  readonly vmlinuz: string;
  readonly config: string;
  /**
   * Debian's kmod of the same suite: the VM's modprobe when this machine has
   * none. The kernel asks for netfilter modules by alias (xt_MARK), which
   * busybox's modprobe does not resolve; Docker's swarm rules need them.
   */
  readonly kmod: string;
  /** lib/modules/<release>: bound into the VM at /lib/modules/<release>. */
  readonly modules: string;
}

export function kernelCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(docknetCacheDir(env), "kernel");
}

function cachedKernelAt(dir: string): CachedKernel | { problem: string } {
  let record: KernelRecord;
  try {
    record = JSON.parse(readFileSync(join(dir, "kernel.json"), "utf8")) as KernelRecord;
  } catch {
    return { problem: `${join(dir, "kernel.json")} is missing or unreadable` };
  }
  const kernel: CachedKernel = {
    ...record,
    dir,
    vmlinuz: join(dir, "vmlinuz"),
    config: join(dir, "config"),
    kmod: join(dir, "bin", "kmod"),
    modules: join(dir, "lib", "modules", record.release),
  };
  for (const file of ["vmlinuz", "config", "kmod"] as const) {
    if (!existsSync(kernel[file])) return { problem: `${kernel[file]} is missing` };
    if (!hasSha256(kernel[file], record.sha256[file]))
      return { problem: `${kernel[file]} changed since it was fetched` };
  }
  if (!existsSync(join(kernel.modules, "modules.dep.bin")))
    return { problem: `${kernel.modules}/modules.dep.bin is missing` };
  return kernel;
}

/** The newest intact kernel in the cache, if any. */
export function cachedKernel(cacheDir = kernelCacheDir()): CachedKernel | undefined {
  if (!existsSync(cacheDir)) return undefined;
  const found = readdirSync(cacheDir)
    .filter((entry) => !entry.startsWith("."))
    .map((entry) => cachedKernelAt(join(cacheDir, entry)))
    .filter((k): k is CachedKernel => !("problem" in k));
  return found.sort((a, b) => b.release.localeCompare(a.release, undefined, { numeric: true }))[0];
}

/**
 * The stock kernel of Debian's KERNEL_SUITE in the cache: found there, or
 * downloaded now (a private apt, as for engines), its modules pruned to what
 * networking needs and indexed (kmod's depmod). Nothing half-made is ever
 * left in the cache.
 */
export async function fetchKernel(
  options: { archive?: string; cacheDir?: string; onProgress?: (line: string) => void } = {},
): Promise<CachedKernel> {
  if (arch() !== "x64")
    throw new EngineUnavailable(`the kernel VM runs amd64 kernels under qemu-system-x86_64; this machine is ${arch()}`);
  const cacheDir = options.cacheDir ?? kernelCacheDir();
  const have = cachedKernel(cacheDir);
  if (have) return have;
  const say = options.onProgress ?? (() => {});
  const archive = debianArchive(options.archive);
  return withFetchWorkspace(cacheDir, "fetching the VM's kernel", say, async (work) => {
    const again = cachedKernel(cacheDir);
    if (again) return again;
    say(`reading ${KERNEL_SUITE}'s package lists from ${archive}...`);
    await readPackageLists(work, archive, [KERNEL_SUITE]);
    const depends = await runCommand("apt-cache", [...aptOptions(work), "depends", KERNEL_METAPACKAGE]);
    const name = /Depends:\s*(linux-image-\S+-amd64)/.exec(depends.stdout)?.[1];
    if (!name)
      throw new EngineUnavailable(`${KERNEL_METAPACKAGE} in ${archive} (${KERNEL_SUITE}) names no kernel package`);
    const version = parseMadison(
      (await runCommand("apt-cache", [...aptOptions(work), "madison", name])).stdout,
      name,
    )[0]?.version;
    if (!version) throw new EngineUnavailable(`${name} is not in ${archive} (${KERNEL_SUITE})`);
    const kmodVersion = parseMadison(
      (await runCommand("apt-cache", [...aptOptions(work), "madison", "kmod"])).stdout,
      "kmod",
    )[0]?.version;
    if (!kmodVersion) throw new EngineUnavailable(`kmod is not in ${archive} (${KERNEL_SUITE})`);
    say(`downloading ${name} ${version} and kmod ${kmodVersion} (${KERNEL_SUITE})...`);
    const root = join(work, "root");
    for (const deb of [await downloadPackage(work, name, version), await downloadPackage(work, "kmod", kmodVersion)]) {
      const extract = await runCommand("dpkg-deb", ["-x", deb, root], { timeoutMs: 300_000 });
      if (extract.code !== 0) throw new EngineUnavailable(`${deb} does not unpack: ${extract.stderr.trim()}`);
    }
    const release = name.replace(/^linux-image-/, "");
    const staged = join(work, "kernel");
    const modules = join(staged, "lib", "modules", release);
    mkdirSync(join(modules, "kernel", "drivers"), { recursive: true });
    renameSync(join(root, "boot", `vmlinuz-${release}`), join(staged, "vmlinuz"));
    renameSync(join(root, "boot", `config-${release}`), join(staged, "config"));
    mkdirSync(join(staged, "bin"));
    renameSync(join(root, "bin", "kmod"), join(staged, "bin", "kmod"));
    const extracted = join(root, "lib", "modules", release);
    for (const file of readdirSync(extracted))
      if (file.startsWith("modules.") && !file.endsWith(".bin")) renameSync(join(extracted, file), join(modules, file));
    for (const part of KEPT_MODULES)
      if (existsSync(join(extracted, "kernel", part)))
        renameSync(join(extracted, "kernel", part), join(modules, "kernel", part));
    say(`indexing the modules of ${release}...`);
    // kmod's depmod (it is a multi-call binary named by argv[0]): modprobe reads its binary indexes,
    // aliases among them (the kernel asks for ipt_MARK, the module is xt_mark).
    symlinkSync(join(staged, "bin", "kmod"), join(work, "depmod"));
    const depmod = await runCommand(join(work, "depmod"), ["-b", staged, release], { timeoutMs: 120_000 });
    if (depmod.code !== 0)
      throw new EngineUnavailable(
        `depmod (Debian's kmod) failed for ${release}: ${depmod.stderr.trim() || `exit ${depmod.code}`}`,
      );
    const record: KernelRecord = {
      release,
      package: `${name} ${version}`,
      suite: KERNEL_SUITE,
      archive,
      fetchedAt: new Date().toISOString(),
      sha256: {
        vmlinuz: sha256File(join(staged, "vmlinuz")),
        config: sha256File(join(staged, "config")),
        kmod: sha256File(join(staged, "bin", "kmod")),
      },
    };
    writeFileSync(join(staged, "kernel.json"), `${JSON.stringify(record, null, 2)}\n`);
    rmSync(join(cacheDir, release), { recursive: true, force: true });
    renameSync(staged, join(cacheDir, release));
    const cached = cachedKernelAt(join(cacheDir, release));
    if ("problem" in cached) throw new EngineUnavailable(`the cached kernel failed its own check: ${cached.problem}`);
    return cached;
  });
}
