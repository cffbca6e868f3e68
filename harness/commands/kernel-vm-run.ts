import { resolve } from "node:path";
import { builtProgram } from "../built-program.js";
import { ExitCode } from "../exit-codes.js";
import { fetchKernel } from "../kernel-vm/kernel-fetch.js";
import { requireQemu, runInKernelVm, SHARE_IN_VM, VmHung, type VmJob } from "../kernel-vm/vm.js";
import { chooseAccelerator } from "../kernel-vm/accelerator.js";
import type { RunReport } from "../results.js";
import { TIME_SCALE_ENV, timeScale } from "../time-scale.js";
import { VANTAGE_ENV } from "../vantage.js";
import { VERSION } from "../version.js";
import { watchInterrupts } from "./interrupts.js";

/** How much slower than this machine the VM is: TCG emulation measured 7-8×, KVM close to native. */
const SLOWDOWN = { tcg: 6, kvm: 1.5 } as const;

export interface KernelVmRunOptions {
  /** `docknet run` arguments for the run in the VM: selection and settings, no reports, no engine choice. */
  readonly runArgs: readonly string[];
  readonly runTimeoutMs?: number;
  readonly writeReports: (report: RunReport) => void;
}

/** Environment the run in the VM keeps: docknet's settings, where caches are, colours and CI. */
function passedEnvironment(): Record<string, string> {
  const kept = Object.entries(process.env).filter(
    ([key, value]) =>
      value !== undefined &&
      key !== "DOCKNET_STATE_DIR" &&
      (/^(DOCKNET_|TESTCONTAINERS_)/.test(key) ||
        ["HOME", "XDG_CACHE_HOME", "CI", "NO_COLOR", "FORCE_COLOR", "LANG", "GITHUB_ACTIONS"].includes(key)),
  );
  return Object.fromEntries(kept) as Record<string, string>;
}

/**
 * `docknet run --kernel-vm`: the run, on a private engine, inside a VM with a
 * stock Debian kernel (fetched once into the cache), for what this machine's
 * kernel lacks (ipvlan, 802.1Q, dummy, IPVS, ESP). Progress streams as the
 * run prints it; its report comes back and is written here, with the kernel
 * it ran on. Ctrl-C stops the run in the VM, which still reports.
 */
export async function runInKernelVmAction(options: KernelVmRunOptions): Promise<number> {
  const say = (line: string) => process.stderr.write(`${line}\n`);
  const kernel = await fetchKernel({ onProgress: (line) => say(`kernel VM: ${line}`) });
  // Before the KVM proof: without QEMU it would record a KVM that "did not boot" for this boot.
  const { accel, why } = await chooseAccelerator(await requireQemu(), kernel.vmlinuz);
  if (why) say(`kernel VM: ${why}: emulating (TCG)`);
  const scale = Math.max(timeScale(), SLOWDOWN[accel]);
  const abort = new AbortController();
  const interrupts = watchInterrupts(abort, options.runTimeoutMs ? { runTimeoutMs: options.runTimeoutMs } : {});
  const vantage = `as root in docknet's kernel VM (Debian ${kernel.package.split(" ")[0]}, QEMU ${accel.toUpperCase()})`;
  say(
    `docknet ${VERSION}: booting a VM with Debian's stock kernel ${kernel.release} (${kernel.package}; QEMU ${accel === "kvm" ? "KVM" : "TCG, emulated"}; waits ×${scale})...`,
  );
  const job: VmJob = {
    kernel,
    argv: [
      process.execPath,
      builtProgram("cli.js"),
      "run",
      ...options.runArgs,
      "--engine",
      "private",
      "--json",
      `${SHARE_IN_VM}/report.json`,
      "--no-color",
    ],
    cwd: resolve("."),
    env: {
      ...passedEnvironment(),
      DOCKNET_STATE_DIR: "/run/docknet",
      [VANTAGE_ENV]: vantage,
      [TIME_SCALE_ENV]: String(scale),
    },
    onLine: (line) => say(line),
    signal: abort.signal,
    // The VM's own limit: the run's, scaled, or a day; the run in it ends itself well before.
    limitMs: (options.runTimeoutMs ?? 24 * 3600_000) * scale + 120_000,
    accelerator: accel,
  };
  const outcome = await runInKernelVm(job).catch(async (error: unknown) => {
    // A VM that hung under emulation is booted once more (the run starts over), unless the user stopped it.
    if (!(error instanceof VmHung) || abort.signal.aborted) throw error;
    say(`kernel VM: ${error.message.split("; its console")[0]}; booting it again, the run starts over`);
    return runInKernelVm(job);
  });
  say(
    `kernel VM: booted in ${(outcome.bootMs / 1000).toFixed(1)}s, ran ${((outcome.totalMs - outcome.bootMs) / 1000).toFixed(1)}s, powered off`,
  );
  const text = outcome.files["report.json"];
  if (text) {
    const report = JSON.parse(text) as RunReport;
    options.writeReports({
      ...report,
      kernelVm: {
        kernelPackage: kernel.package,
        release: kernel.release,
        accelerator: accel,
        bootMs: Math.round(outcome.bootMs),
      },
    });
  }
  if (abort.signal.aborted) return interrupts.exitCode() ?? ExitCode.interrupted;
  return outcome.code;
}
