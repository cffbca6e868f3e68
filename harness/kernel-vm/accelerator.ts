import { accessSync, constants, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { docknetCacheDir } from "../cache-dir.js";
import { runCommand } from "../host-command.js";

export type Accelerator = "kvm" | "tcg";

/** Whether this user may open /dev/kvm (GitHub's Linux runners allow it). */
function kvmOpens(): boolean {
  try {
    accessSync("/dev/kvm", constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** A guest kernel boots to its panic (no root) in about a second under working KVM. */
const KVM_BOOT_SECONDS = 20;

const checkFile = () => join(docknetCacheDir(), "kvm-check.json");
const bootId = () =>
  existsSync("/proc/sys/kernel/random/boot_id") ? readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim() : "";

/**
 * KVM when /dev/kvm opens and a guest kernel actually boots on it, else TCG (with why, when
 * /dev/kvm opened but its guest did not boot). A nested
 * host can offer a /dev/kvm whose guests hang right after the kernel is decompressed (seen on
 * docknet's own CI machine: SeaBIOS, "Probing EDD... ok", then nothing, a CPU spinning). The
 * proof boots `vmlinuz` with no root, to its panic (`panic=-1 -no-reboot` ends QEMU); its verdict
 * holds until this machine reboots.
 */
export async function chooseAccelerator(qemu: string, vmlinuz: string): Promise<{ accel: Accelerator; why?: string }> {
  if (!kvmOpens()) return { accel: "tcg" };
  const boot = bootId();
  try {
    const cached = JSON.parse(readFileSync(checkFile(), "utf8")) as { bootId: string; kvmBoots: boolean };
    if (boot && cached.bootId === boot) return cached.kvmBoots ? { accel: "kvm" } : { accel: "tcg", why: brokenKvm() };
  } catch {
    // no verdict yet for this boot
  }
  const out = await runCommand(
    qemu,
    [
      ...["-accel", "kvm", "-cpu", "host", "-machine", "q35", "-m", "256"],
      ...["-display", "none", "-nodefaults", "-serial", "null", "-no-reboot"],
      ...["-kernel", vmlinuz, "-append", "console=ttyS0 panic=-1 quiet"],
    ],
    { timeoutMs: KVM_BOOT_SECONDS * 1000 },
  );
  const kvmBoots = out.code === 0;
  if (boot) {
    mkdirSync(dirname(checkFile()), { recursive: true });
    writeFileSync(checkFile(), JSON.stringify({ bootId: boot, kvmBoots }));
  }
  return kvmBoots ? { accel: "kvm" } : { accel: "tcg", why: brokenKvm() };
}

/**
 * Why KVM did not boot the guest, as precisely as the host tells: a /dev/kvm served by kvm_pvm
 * (Pagetable-based Virtual Machine, for hosts without hardware virtualization) runs only guest
 * kernels built for PVM, and a stock distribution kernel is not one (seen on docknet's CI machine).
 */
function brokenKvm(): string {
  const why = existsSync("/sys/module/kvm_pvm")
    ? "this /dev/kvm is kvm_pvm's, which boots only kernels built as PVM guests"
    : "nested virtualization that hangs its guests";
  return `/dev/kvm opens, but a guest kernel did not boot on it in ${KVM_BOOT_SECONDS} s (${why})`;
}
