import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, appendFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { stateRoot } from "../engine/private-engine.js";
import { EngineUnavailable } from "../exit-codes.js";
import { findProgram, isProcessAlive } from "../host-command.js";
import { findStaticBusybox } from "../static-busybox.js";
import { buildInitramfs, TAGS } from "./initramfs.js";
import type { Accelerator } from "./accelerator.js";
import type { CachedKernel } from "./kernel-fetch.js";

/**
 * docknet's kernel VM: a stock distribution kernel under QEMU (KVM when
 * /dev/kvm is usable, TCG emulation otherwise), whose root is this machine's
 * own file system read-only under a tmpfs overlay. It has no network device:
 * nothing it does leaves it. One command runs in it as root; its output
 * streams back over the serial console, its files come back through a
 * writable 9p share, and the VM powers off when the command ends.
 */

/** Modules loaded before the command: what the kernel-gated scenarios and any engine need. */
const PRELOADED = [
  "ipvlan",
  "macvlan",
  "8021q",
  "dummy",
  "vxlan",
  "ip_vs",
  "ip_vs_rr",
  "esp4",
  "xfrm_user",
  "bridge",
  "br_netfilter",
  "veth",
  "overlay",
  "nf_conntrack",
  "iptable_nat",
  "iptable_filter",
];

/** Where the command in the VM finds the share: files it leaves there come back. */
export const SHARE_IN_VM = "/var/docknet-share";

/** The serial console's lines around the command's output: before, the boot; after, the power-off. */
const READY = "docknet-vm: ready";
const DONE = "docknet-vm: done";

export interface VmJob {
  readonly kernel: CachedKernel;
  /** The command run in the VM, as root, in `cwd` (a directory of this machine, seen read-only... and writable through the overlay). */
  readonly argv: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  /** Each line the command prints (stdout and stderr), as it comes. */
  readonly onLine: (line: string) => void;
  /** Aborting asks the command to stop (SIGINT in the VM); it still finishes what it must. */
  readonly signal?: AbortSignal;
  /** The VM is killed after this, whatever it is doing. */
  readonly limitMs: number;
  readonly cpus?: number;
  readonly memoryMb?: number;
  /** KVM or TCG, as chooseAccelerator decided for this machine. */
  readonly accelerator: Accelerator;
}

export interface VmOutcome {
  /** The command's exit code. */
  readonly code: number;
  /** Files the command left in the share (SHARE_IN_VM), by name. */
  readonly files: Readonly<Record<string, string>>;
  /** From QEMU's start to the command's start, and the whole. */
  readonly bootMs: number;
  readonly totalMs: number;
  readonly accelerator: Accelerator;
}

export interface VmState {
  readonly id: string;
  readonly ownerPid: number;
  readonly qemuPid?: number;
  readonly startedAt: string;
}

function vmsDir(): string {
  return join(stateRoot(), "vms");
}

const shellWord = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;

/**
 * The second stage, run by the VM's first stage from the share: mounts what
 * an engine needs (tmpfs where overlayfs may not be), binds the kernel's
 * modules and config where tools look for them, loads the modules, then runs
 * the command with a watcher that stops it when asked (a file in the share),
 * and powers off; at once when the docknet that started the VM is gone (this
 * machine's /proc, shared read-only).
 */
function stage2(job: VmJob): string {
  const env = Object.entries(job.env)
    .map(([k, v]) => `export ${k}=${shellWord(v)}`)
    .join("\n");
  return `#!/bin/sh
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc; mount -t sysfs sys /sys
mkdir -p /dev/pts /dev/shm; mount -t devpts devpts /dev/pts; mount -t tmpfs shm /dev/shm
mount -t cgroup2 cgroup2 /sys/fs/cgroup
S=${SHARE_IN_VM}; H=/var/docknet-hostproc
mkdir -p $S $H
mount -t 9p -o trans=virtio,version=9p2000.L,msize=524288,cache=none ${TAGS.share} $S || { echo "docknet-vm: boot failed: the share"; poweroff -f; }
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=none ${TAGS.hostProc} $H || { echo "docknet-vm: boot failed: this machine's /proc"; poweroff -f; }
R=$(uname -r)
mkdir -p /lib/modules/$R /boot
mount --bind ${shellWord(job.kernel.modules)} /lib/modules/$R && cp ${shellWord(job.kernel.config)} /boot/config-$R
# overlayfs may not sit on overlayfs (dockerd's overlay2, containerd): these get tmpfs.
for d in /run /var/lib/docker /var/lib/containerd; do mkdir -p $d; mount -t tmpfs tmpfs $d; done
# The kernel asks for modules (often by alias: xt_MARK) through this program: this machine's
# modprobe, else Debian's kmod fetched with the kernel.
M=$(command -v modprobe || true)
if [ -z "$M" ]; then mkdir -p /usr/local/sbin; ln -s ${shellWord(job.kernel.kmod)} /usr/local/sbin/modprobe; M=/usr/local/sbin/modprobe; fi
echo $M > /proc/sys/kernel/modprobe
for m in ${PRELOADED.join(" ")}; do $M $m 2>/dev/null || echo "docknet-vm: module $m did not load"; done
$M ipt_MARK 2>/dev/null || echo "docknet-vm: modprobe resolves no alias (ipt_MARK): swarm's marking rules will fail"
ip link set lo up
# As on a host where dockerd runs: forwarding on. Namespaces made later inherit IPv4 settings from
# this one (net.core.devconf_inherit_init_net=0), the swarm's ingress and load-balancer sandboxes
# among them; with it off there, IPVS drops every reply it must forward (routing mesh, service VIPs).
echo 1 > /proc/sys/net/ipv4/ip_forward
hostname docknet-vm
echo "${READY}"
${env}
cd ${shellWord(job.cwd)} || { echo "docknet-vm: no ${job.cwd} in the VM"; echo 2 > $S/exit-code; poweroff -f; }
# Through a pipe: the command sees no terminal, so it prints plain lines.
( sh -c 'echo $$ > /run/docknet-command.pid; exec "$@"' sh ${job.argv.map(shellWord).join(" ")} 2>&1; echo $? > $S/exit-code ) | cat &
(
  asked=""
  while [ ! -e $S/exit-code ]; do
    # The docknet that started the VM is gone (kill -9): nobody reads a verdict now, and all the VM
    # holds is in its own memory, so it powers off at once; docknet clean removes the share.
    [ -d $H/${process.pid} ] || poweroff -f
    if [ -z "$asked" ] && [ -e $S/stop ]; then
      asked=1; kill -INT "$(cat /run/docknet-command.pid)" 2>/dev/null || true
    fi
    sleep 0.5
  done
) &
wait
echo "${DONE}"
sync
poweroff -f
`;
}

/**
 * Under emulation the guest kernel can lock up for good: both vCPUs spinning,
 * "watchdog: BUG: soft lockup - CPU#1 stuck for 45s! [exe:522]" every half
 * minute, nothing else ever again. A CPU stuck this long is a hung VM.
 */
const HUNG_AFTER_SECONDS = 40;

/** What a console line says of a hung VM ("soft lockup - CPU#1 stuck for 45s! [exe:522]"), if it does. */
export function hungVmLine(line: string): string | undefined {
  const stuck = /soft lockup - CPU#\d+ stuck for (\d+)s!.*/.exec(line);
  return stuck && Number(stuck[1]) >= HUNG_AFTER_SECONDS ? stuck[0] : undefined;
}

/** The VM hung (see HUNG_AFTER_SECONDS) and was stopped; booting a fresh one may well succeed. */
export class VmHung extends EngineUnavailable {}

/** Where QEMU is; without it, one line saying how to install it. */
export async function requireQemu(): Promise<string> {
  const qemu = await findProgram("qemu-system-x86_64");
  if (!qemu)
    throw new EngineUnavailable(
      "qemu-system-x86_64 is not installed: the kernel VM needs it (Debian: apt-get install --no-install-recommends qemu-system-x86)",
    );
  return qemu;
}

/** Runs JOB in a fresh VM and returns how it ended; the VM and its files are gone afterwards. */
export async function runInKernelVm(job: VmJob): Promise<VmOutcome> {
  const qemu = await requireQemu();
  const accel = job.accelerator;
  const busybox = findStaticBusybox();
  const id = randomBytes(4).toString("hex");
  const dir = join(vmsDir(), id);
  const share = join(dir, "share");
  mkdirSync(share, { recursive: true });
  const consoleLog = join(dir, "console.log");
  const state: VmState = { id, ownerPid: process.pid, startedAt: new Date().toISOString() };
  writeFileSync(join(dir, "state.json"), JSON.stringify(state));
  const started = performance.now();
  let bootMs = 0;
  try {
    await buildInitramfs({
      busybox,
      modules: job.kernel.modules,
      out: join(dir, "initramfs.cpio.gz"),
      work: join(dir, "initramfs"),
    });
    writeFileSync(join(share, "stage2"), stage2(job));
    const memoryMb = job.memoryMb ?? Math.min(4096, Math.floor(totalmem() / 3 / 2 ** 20));
    const args = [
      "-name",
      `docknet-vm-${id}`,
      "-machine",
      "q35",
      "-accel",
      accel,
      "-cpu",
      // Under emulation a plain x86-64 CPU: with "max" the guest's programs take AVX code paths that
      // TCG emulates slowly (bench/kernel-vm, 3 scenarios: 115 s and 110 s with max, 98 s and 95 s so).
      accel === "kvm" ? "host" : "qemu64",
      "-smp",
      String(job.cpus ?? Math.min(cpus().length, 4)),
      "-m",
      String(memoryMb),
      "-kernel",
      job.kernel.vmlinuz,
      "-initrd",
      join(dir, "initramfs.cpio.gz"),
      "-append",
      "console=ttyS0 rdinit=/init panic=-1 loglevel=3 quiet mitigations=off",
      "-display",
      "none",
      "-monitor",
      "none",
      "-serial",
      "stdio",
      "-no-reboot",
      "-nic",
      "none",
      "-fsdev",
      "local,id=root,path=/,security_model=none,readonly=on,multidevs=remap",
      "-device",
      `virtio-9p-pci,fsdev=root,mount_tag=${TAGS.root}`,
      "-fsdev",
      `local,id=share,path=${share},security_model=none`,
      "-device",
      `virtio-9p-pci,fsdev=share,mount_tag=${TAGS.share}`,
      "-fsdev",
      "local,id=hostproc,path=/proc,security_model=none,readonly=on",
      "-device",
      `virtio-9p-pci,fsdev=hostproc,mount_tag=${TAGS.hostProc}`,
    ];
    const child = spawn(qemu, args, { stdio: ["pipe", "pipe", "pipe"] });
    writeFileSync(join(dir, "state.json"), JSON.stringify({ ...state, qemuPid: child.pid }));
    const stop = () => writeFileSync(join(share, "stop"), "");
    job.signal?.addEventListener("abort", stop, { once: true });
    const limit = setTimeout(() => child.kill("SIGKILL"), job.limitMs);
    let ready = false;
    let done = false;
    let hung: string | undefined;
    let tail = "";
    const bootLines: string[] = [];
    const onData = (chunk: Buffer) => {
      const lines = (tail + chunk.toString()).replace(/\r/g, "").split("\n");
      tail = lines.pop() ?? "";
      for (const line of lines) {
        appendFileSync(consoleLog, `${line}\n`);
        if (!hung && (hung = hungVmLine(line))) child.kill("SIGKILL");
        if (!ready) {
          if (line.startsWith(READY)) {
            ready = true;
            bootMs = performance.now() - started;
          } else if (line.trim()) bootLines.push(line);
          // The second stage's own warnings (a module that did not load) are the user's to see.
          if (line.startsWith("docknet-vm: ") && !line.startsWith(READY)) job.onLine(line);
          continue;
        }
        if (line.startsWith(DONE)) done = true;
        if (!done) job.onLine(line);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", (chunk: Buffer) => appendFileSync(consoleLog, chunk));
    const exit = await new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    clearTimeout(limit);
    job.signal?.removeEventListener("abort", stop);
    const codeFile = join(share, "exit-code");
    // A run that finished before the lockup (say, while powering off) stands.
    if (hung && !existsSync(codeFile))
      throw new VmHung(
        `the kernel VM hung under emulation (${hung}) and was stopped; its console: ${keepConsole(id, consoleLog)}`,
      );
    if (!existsSync(codeFile)) {
      const why =
        bootLines.find((l) => l.startsWith("docknet-vm: boot failed")) ??
        bootLines.filter((l) => /panic|error|fail/i.test(l)).at(-1) ??
        `qemu exited ${exit ?? "on a signal"}`;
      throw new EngineUnavailable(
        `the kernel VM ended before its command did (${why.replace(/^docknet-vm: /, "")}); its console: ${keepConsole(id, consoleLog)}`,
      );
    }
    const files: Record<string, string> = {};
    for (const name of readdirSync(share))
      if (!["stage2", "exit-code", "stop"].includes(name)) files[name] = readFileSync(join(share, name), "utf8");
    return {
      code: Number(readFileSync(codeFile, "utf8").trim()),
      files,
      bootMs,
      totalMs: performance.now() - started,
      accelerator: accel,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Keeps a VM's console log past the VM (its directory goes with it), for a person to read. */
function keepConsole(id: string, consoleLog: string): string {
  const kept = join(stateRoot(), "logs", `vm-${id}-console.log`);
  mkdirSync(join(stateRoot(), "logs"), { recursive: true });
  if (existsSync(consoleLog)) writeFileSync(kept, readFileSync(consoleLog));
  return kept;
}

/** VMs whose docknet is gone (kill -9): what `docknet clean` stops. */
export function orphanedVms(): VmState[] {
  if (!existsSync(vmsDir())) return [];
  return readdirSync(vmsDir()).flatMap((id) => {
    try {
      const state = JSON.parse(readFileSync(join(vmsDir(), id, "state.json"), "utf8")) as VmState;
      return isProcessAlive(state.ownerPid) ? [] : [state];
    } catch {
      return [{ id, ownerPid: 0, startedAt: "" }];
    }
  });
}

/** Kills an orphaned VM's QEMU (only if that pid is still that VM) and removes its files. */
export function stopVm(state: VmState): void {
  if (state.qemuPid && isProcessAlive(state.qemuPid)) {
    const cmdline = (() => {
      try {
        return readFileSync(`/proc/${state.qemuPid}/cmdline`, "utf8");
      } catch {
        return "";
      }
    })();
    if (cmdline.includes(`docknet-vm-${state.id}`)) process.kill(state.qemuPid, "SIGKILL");
  }
  rmSync(join(vmsDir(), state.id), { recursive: true, force: true });
}
