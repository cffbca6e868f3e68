import { copyFileSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { EngineUnavailable } from "../exit-codes.js";
import { runCommand } from "../host-command.js";

/** What the first stage loads, in dependency order: enough to mount a 9p root under an overlay. */
export const EARLY_MODULES = [
  "virtio_ring",
  "virtio",
  "virtio_pci_modern_dev",
  "virtio_pci_legacy_dev",
  "virtio_pci",
  "9pnet",
  "9pnet_virtio",
  "netfs",
  "fscache",
  "9p",
  "overlay",
];

/** The 9p tags the VM is given: this machine's root (read-only), the run's share, this machine's /proc (read-only). */
export const TAGS = { root: "hostroot", share: "share", hostProc: "hostproc" } as const;

/**
 * The first stage (/init of the initramfs). This machine's own root, shared
 * read-only over virtio-9p, becomes the VM's root under a tmpfs overlay, so
 * the VM runs this machine's programs (node, dockerd, docknet) on the stock
 * kernel without a disk image. The second stage comes from the run's share.
 * Every failure says "docknet-vm: boot failed" and powers off.
 */
const INIT = `#!/bin/busybox sh
B=/bin/busybox
$B mount -t proc proc /proc
$B mount -t devtmpfs dev /dev
exec </dev/console >/dev/console 2>&1
fail() { echo "docknet-vm: boot failed: $*"; $B poweroff -f; }
for m in ${EARLY_MODULES.join(" ")}; do $B insmod /modules/$m.ko || fail "insmod $m"; done
$B mkdir -p /lower /upper /newroot /share
$B mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=524288,cache=loose ${TAGS.root} /lower || fail "the 9p root"
$B mount -t tmpfs -o size=75% tmpfs /upper || fail "tmpfs"
$B mkdir -p /upper/up /upper/work
$B mount -t overlay overlay -o lowerdir=/lower,upperdir=/upper/up,workdir=/upper/work /newroot || fail "the overlay root"
$B mount -t 9p -o trans=virtio,version=9p2000.L,msize=524288,cache=none ${TAGS.share} /share || fail "the share"
$B cp /share/stage2 /newroot/docknet-stage2 || fail "no second stage"
$B umount /share
$B mount --move /dev /newroot/dev
$B umount /proc
exec $B switch_root /newroot /bin/sh /docknet-stage2
`;

/** Writes the initramfs for a kernel whose modules are at MODULES (lib/modules/<release>) to OUT. */
export async function buildInitramfs(options: {
  busybox: string;
  modules: string;
  out: string;
  work: string;
}): Promise<void> {
  const { busybox, work } = options;
  rmSync(work, { recursive: true, force: true });
  for (const dir of ["bin", "dev", "proc", "modules"]) mkdirSync(join(work, dir), { recursive: true });
  copyFileSync(busybox, join(work, "bin", "busybox"));
  for (const module of EARLY_MODULES) {
    const found = await runCommand(busybox, ["find", options.modules, "-name", `${module}.ko`]);
    const path = found.stdout.trim().split("\n")[0];
    if (!path) throw new EngineUnavailable(`the kernel's modules have no ${module}.ko`);
    copyFileSync(path, join(work, "modules", `${module}.ko`));
  }
  writeFileSync(join(work, "init"), INIT, { mode: 0o755 });
  // busybox's cpio writes the newc archive the kernel unpacks; no device nodes needed (devtmpfs is mounted first).
  const pack = await runCommand(busybox, [
    "sh",
    "-c",
    `cd "$1" && ${busybox} find . | ${busybox} cpio -o -H newc | ${busybox} gzip -1 > "$2"`,
    "sh",
    work,
    options.out,
  ]);
  rmSync(work, { recursive: true, force: true });
  if (pack.code !== 0) throw new EngineUnavailable(`building the VM's initramfs failed: ${pack.stderr.trim()}`);
}
