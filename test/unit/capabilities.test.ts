import { describe, expect, test } from "vitest";
import { compareVersions, missingRequirements, needs, versionAtLeast } from "../../harness/capabilities.js";
import { ENGINE_FACTS } from "./engine-facts.js";
import { missingKernelOptions, parseKernelConfig } from "../../harness/kernel-config.js";

const engine = ENGINE_FACTS;

describe("capabilities", () => {
  test("versions compare numerically and ignore distribution suffixes", () => {
    expect(compareVersions("20.10.24+dfsg1", "28.0")).toBe(-1);
    expect(compareVersions("28.0.0", "28.0")).toBe(0);
    expect(compareVersions("26.1.5", "25.0")).toBe(1);
    expect(versionAtLeast("20.10.9", "20.10")).toBe(true);
    expect(versionAtLeast("9.3", "20.10")).toBe(false);
  });

  test("met requirements report nothing", () => {
    expect(
      missingRequirements([needs.defaultBridge, needs.hostNetwork, needs.driver("macvlan"), needs.linuxEngine], engine),
    ).toEqual([]);
  });

  test("a missing requirement names the missing engine fact", () => {
    expect(missingRequirements([needs.defaultBridge], { ...engine, defaultBridge: false })).toEqual([
      "engine has no default bridge network (daemon runs with --bridge=none)",
    ]);
    expect(missingRequirements([needs.driver("weave")], engine)[0]).toMatch(
      /^engine has no weave network driver \(has bridge, host/,
    );
    expect(missingRequirements([needs.engineAtLeast("28.0", "direct routing")], engine)).toEqual([
      "engine 20.10.24+dfsg1 is older than 28.0 (direct routing)",
    ]);
    expect(missingRequirements([needs.hostNetwork], { ...engine, rootless: true })[0]).toMatch(/rootless/);
    expect(missingRequirements([needs.linuxEngine], { ...engine, osType: "windows" })).toEqual([
      "engine runs windows containers, not linux",
    ]);
  });

  test("kernel requirements name the options the kernel lacks, and an unknown kernel is given the benefit of the doubt", () => {
    const options = parseKernelConfig("CONFIG_MACVLAN=y\nCONFIG_VXLAN=m\n# CONFIG_IPVLAN is not set\n");
    const kernelMissing = missingKernelOptions(options);
    expect(kernelMissing.macvlan).toEqual([]);
    expect(kernelMissing.ipvlan).toEqual(["CONFIG_IPVLAN"]);
    const withKernel = { ...engine, kernelMissing };
    expect(missingRequirements([needs.kernel("macvlan", "macvlan")], withKernel)).toEqual([]);
    expect(missingRequirements([needs.kernel("ipvlan", "ipvlan networks need it")], withKernel)).toEqual([
      "kernel has no CONFIG_IPVLAN (ipvlan networks need it)",
    ]);
    expect(missingRequirements([needs.kernel("ipvs", "the routing mesh")], engine)).toEqual([]);
  });

  test("multi-host scenarios need a cluster, and re-forming one needs docknet's own", () => {
    expect(missingRequirements([needs.multiHost], engine)[0]).toMatch(
      /^needs several engines in one swarm: docknet run --lab 3/,
    );
    const lab = { ...engine, cluster: { nodes: 3, disposable: true, description: "lab" } };
    expect(missingRequirements([needs.multiHost, needs.disposableSwarm], lab)).toEqual([]);
    const theirs = { ...engine, cluster: { nodes: 3, disposable: false, description: "nodes" } };
    expect(missingRequirements([needs.disposableSwarm], theirs)[0]).toMatch(/only on docknet's own lab/);
  });
});
