import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { findProgram } from "../../harness/host-command.js";
import { waitFor } from "../../harness/polling.js";
import { cachedKernel } from "../../harness/kernel-vm/kernel-fetch.js";
import { tempDir } from "../temp-dir.js";
import { junit10Errors } from "../junit-10.js";
import { BROKEN_BY } from "../integration/broken-by.js";
import { kernelVmLeftovers as vmLeftovers } from "../integration/leftovers.js";
import { docknet } from "../integration/run-cli.js";

interface Report {
  vantage?: string;
  kernelVm?: { kernelPackage: string; release: string; accelerator: string; bootMs: number };
  timeScale?: number;
  engine: { kernel: string };
  results: {
    id: string;
    attempt: number;
    status: string;
    reason?: string;
    evidence: { ok: boolean; observed: string }[];
  }[];
}

/** The scenarios this machine's kernel cannot run (no ipvlan, 802.1Q, dummy): the VM's stock kernel can. */
const KERNEL_GATED = ["IV-01", "IV-02", "IV-03", "IV-04", "IV-05", "MV-01", "MV-03"];
/**
 * And those that need IPVS (the routing mesh, service VIPs) or ESP (encrypted overlays), on a lab in
 * the VM. Under emulation OV-11's attach to the encrypted overlay can outlast dockerd's fixed 30 s
 * deadline; the cluster then starts its probe once more (harness/lab/cluster.ts), and says so.
 */
const SWARM_GATED = ["OV-05", "OV-11", "OV-15"];
const ALL_GATED = [...KERNEL_GATED, ...SWARM_GATED];
/** Short ones first (MV-01 takes seconds), so that Ctrl-C comes while the others are under way. */
const CTRL_C = ["MV-01", "IV-02", "MV-03"];
const kernel = cachedKernel();
const unavailable = !kernel
  ? "no cached kernel (docknet engine kernel)"
  : !(await findProgram("qemu-system-x86_64"))
    ? "no qemu-system-x86_64"
    : undefined;

describe.skipIf(unavailable !== undefined)(`docknet run --kernel-vm (${unavailable ?? kernel?.release})`, () => {
  beforeAll(() => expect(vmLeftovers()).toEqual([]));
  afterAll(() => expect(vmLeftovers()).toEqual([]));

  test("the ipvlan, 802.1Q, dummy and IPVS scenarios pass on Debian's stock kernel (a 2-engine lab for the swarm ones), and each fails there on its own broken setup; the report names that kernel; nothing is left", async () => {
    const dir = tempDir("vm");
    // One VM for both proofs: each scenario's first attempt runs as is, its second on its broken setup (broken-by.ts).
    const faults = ALL_GATED.map((id) => `${id}-2=${BROKEN_BY[id] as string}`);
    // Two engines are enough for the swarm ones (a task's node and one without); each engine costs ~7× under emulation.
    const out = await docknet([
      "run",
      "--kernel-vm",
      "--lab",
      "2",
      ...ALL_GATED,
      "--repeat",
      "2",
      "--fault",
      ...faults,
      "--json",
      join(dir, "run.json"),
      "--junit",
      join(dir, "junit.xml"),
    ]);
    expect(out.code, out.stderr).toBe(1);
    const report = JSON.parse(readFileSync(join(dir, "run.json"), "utf8")) as Report;
    const byAttempt = (attempt: number) =>
      Object.fromEntries(report.results.filter((r) => r.attempt === attempt).map((r) => [r.id, r.status]));
    expect(byAttempt(1), out.stderr).toEqual(Object.fromEntries(ALL_GATED.map((id) => [id, "passed"])));
    expect(byAttempt(2), out.stderr).toEqual(Object.fromEntries(ALL_GATED.map((id) => [id, "failed"])));
    for (const result of report.results.filter((r) => r.attempt === 2))
      expect(result.evidence.at(-1)?.ok, `${result.id}: the failing evidence comes last`).toBe(false);
    // Which kernel it ran on, in every place a reader looks: the header, the JSON, the JUnit.
    expect(report.kernelVm).toMatchObject({ release: kernel!.release, kernelPackage: kernel!.package });
    expect(report.engine.kernel).toBe(kernel!.release);
    expect(report.vantage).toMatch(/^as root in docknet's kernel VM \(Debian linux-image-/);
    expect(out.stderr).toContain(`booting a VM with Debian's stock kernel ${kernel!.release}`);
    const junit = readFileSync(join(dir, "junit.xml"), "utf8");
    expect(junit).toContain(`<property name="kernel-vm" value="${kernel!.package} (${kernel!.release})`);
    expect(junit10Errors(junit)).toEqual([]);
    // Every module the VM loads was found; boot noise stays out of the user's view.
    expect(out.stderr).not.toMatch(/docknet-vm: module|resolves no alias|Powering off|reboot: Power down/);
    expect(vmLeftovers()).toEqual([]);
  });

  test("Ctrl-C stops the run in the VM at once: it still reports every verdict, exits 130, and leaves nothing", async () => {
    const dir = tempDir("vm");
    let sent = false;
    const out = await docknet(["run", "--kernel-vm", ...CTRL_C, "--json", join(dir, "run.json")], {
      onStderr: (text, child) => {
        if (!sent && /^(PASS|FAIL) /m.test(text)) {
          sent = true;
          child.kill("SIGINT");
        }
      },
    });
    expect(out.code, out.stderr).toBe(130);
    const report = JSON.parse(readFileSync(join(dir, "run.json"), "utf8")) as Report;
    expect(report.results.map((r) => r.id).sort()).toEqual([...CTRL_C].sort());
    expect(report.results.some((r) => r.status === "passed")).toBe(true);
    expect(
      report.results.filter((r) => r.status === "skipped").every((r) => /interrupted by SIGINT/.test(r.reason ?? "")),
    ).toBe(true);
    expect(vmLeftovers()).toEqual([]);
  });

  test("kill -9 leaves a VM that stops itself once it sees its docknet gone, and docknet clean removes what is left", async () => {
    let watching: NodeJS.Timeout | undefined;
    const vmRunning = () => vmLeftovers().some((l) => /-name docknet-vm-/.test(l));
    const out = await docknet(["run", "--kernel-vm", "IV-02"], {
      onStderr: (text, child) => {
        // Killed as soon as its QEMU runs: the VM is still booting, and must stop by itself all the same.
        if (!watching && /booting a VM/.test(text)) {
          watching = setInterval(() => {
            if (!vmRunning()) return;
            clearInterval(watching);
            child.kill("SIGKILL");
          }, 200);
        }
      },
    });
    clearInterval(watching);
    expect(out.signal).toBe("SIGKILL");
    // The VM watches for its docknet through this machine's /proc, and powers off.
    expect(vmRunning()).toBe(true);
    expect(await waitFor(async () => !vmRunning(), 180_000, 1000)).toBe(true);
    expect(vmLeftovers().filter((l) => /kernel VM directory/.test(l))).toHaveLength(1);
    const clean = await docknet(["clean"]);
    expect(clean.stderr).toMatch(/kernel VMs stopped: 1\n/);
    expect(vmLeftovers()).toEqual([]);
  });

  test("bad input is refused before a VM boots", async () => {
    const out = await docknet(["run", "--kernel-vm", "--engine", "current", "IV-01"]);
    expect(out.code).toBe(2);
    expect(out.stderr.trim()).toBe(
      "docknet: --kernel-vm cannot be combined with --engine current (the VM has an engine of its own)",
    );
    expect((await docknet(["run", "--kernel-vm", "NOPE-99"])).code).toBe(2);
  });
});
