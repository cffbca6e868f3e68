import { describe, expect, test } from "vitest";
import {
  comparableVersion,
  compareVersions,
  dockerVersionOfApi,
  missingRequirements,
  needs,
  versionAtLeast,
} from "../../harness/capabilities.js";
import type { LabScope } from "../../harness/lab/lab.js";
import { scenarioContext, type DocumentedDifference } from "../../harness/scenario.js";
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

describe("an engine of another family serving Docker's API (Podman)", () => {
  const podman = {
    ...ENGINE_FACTS,
    engineVersion: "4.3.1",
    apiVersion: "1.41",
    servesDockerApiOf: dockerVersionOfApi("1.41") ?? "",
    profile: { family: "podman" as const, mode: "rootful" as const, firewall: "iptables-nft", description: "podman" },
  };

  test("version keys compare the Docker release whose API it serves, and say so", () => {
    expect(podman.servesDockerApiOf).toBe("20.10");
    expect(dockerVersionOfApi("1.48")).toBe("28.0");
    expect(dockerVersionOfApi("9.99")).toBeUndefined();
    expect(comparableVersion(podman)).toBe("20.10");
    expect(comparableVersion(ENGINE_FACTS)).toBe(ENGINE_FACTS.engineVersion);
    // 4.3.1 is "older" than 20.10 as a number: compared as itself, every since("20.10") would be wrong.
    expect(missingRequirements([needs.engineAtLeast("20.10", "why")], podman)).toEqual([]);
    expect(missingRequirements([needs.engineAtLeast("28.0", "why")], podman)).toEqual([
      "engine 4.3.1 serves the API of Docker 20.10, older than 28.0 (why)",
    ]);
  });

  test("differs() follows the family and records each documented difference once", () => {
    const differences: DocumentedDifference[] = [];
    const onPodman = scenarioContext({} as LabScope, podman, [], [], undefined, differences);
    expect(onPodman.differs("podman", "what", "source")).toBe(true);
    expect(onPodman.differs("podman", "what", "source")).toBe(true);
    expect(differences).toEqual([{ family: "podman", what: "what", source: "source" }]);
    const onDocker = scenarioContext({} as LabScope, ENGINE_FACTS, [], [], undefined, differences);
    expect(onDocker.differs("podman", "other", "source")).toBe(false);
    expect(differences).toHaveLength(1);
  });
});
