import { describe, expect, test } from "vitest";
import { missingRequirements, needs } from "../../harness/capabilities.js";
import { ENGINE_FACTS } from "./engine-facts.js";
import { addressInSubnet } from "../../harness/cidr.js";
import { networkSettingProblems } from "../../harness/doctor/checks/daemon-settings.js";
import { ipNetnsTarget } from "../../harness/engine/netns.js";
import { PRIVATE_ENGINE_ADDRESSING, sharedHostAddressing } from "../../harness/engine/outside-host.js";
import { interfaceNameProblem } from "../../harness/lab/macvlan-parent.js";

const engine = { ...ENGINE_FACTS, engineKind: "current" as const, engineVersion: "28.5.2" };

describe("where docknet puts its outside hosts and LANs", () => {
  test("addresses inside a subnet are written canonically, whatever form the subnet was given in", () => {
    expect(addressInSubnet("fd0d:b4d7:0::/64", 10)).toBe("fd0d:b4d7::a");
    expect(addressInSubnet("10.216.0.0/24", 254)).toBe("10.216.0.254");
    expect(addressInSubnet("10.216.0.200/24", 100)).toBe("10.216.1.44");
  });

  test("a private engine's outside host takes the first /30 and the default route; a shared host's never takes the route", () => {
    expect(PRIVATE_ENGINE_ADDRESSING).toMatchObject({
      engineAddress: "10.213.255.1",
      outsideAddress: "10.213.255.2",
      defaultRoute: true,
    });
    // Canonical IPv6 (fd0d:213:255::1, not fd0d:213:255:0::1): tools print it so, and docknet compares with what they print.
    expect(sharedHostAddressing(0)).toMatchObject({
      subnet: "10.213.255.0/30",
      engineAddress: "10.213.255.1",
      outsideAddress: "10.213.255.2",
      engineIpv6Address: "fd0d:213:255::1",
      defaultRoute: false,
    });
    expect(sharedHostAddressing(1)).toEqual({
      subnet: "10.213.255.4/30",
      engineAddress: "10.213.255.5",
      outsideAddress: "10.213.255.6",
      engineIpv6Address: "fd0d:213:255:1::1",
      outsideIpv6Address: "fd0d:213:255:1::2",
      defaultRoute: false,
    });
  });

  test("a namespace docknet did not make is entered by path and named to ip by its pid, never by a name it could delete", () => {
    expect(ipNetnsTarget("docknet-1234abcd")).toBe("docknet-1234abcd");
    expect(ipNetnsTarget("/proc/4242/ns/net")).toBe("4242");
    expect(() => ipNetnsTarget("/var/run/somewhere")).toThrow(/neither a name nor \/proc\/<pid>\/ns\/net/);
  });

  test("--macvlan-parent takes interface names only", () => {
    expect(interfaceNameProblem("eth0.60")).toBeUndefined();
    expect(interfaceNameProblem("enp0s31f6")).toBeUndefined();
    expect(interfaceNameProblem("a-name-far-too-long")).toMatch(/not an interface name/);
    expect(interfaceNameProblem("eth0/1")).toMatch(/not an interface name/);
    expect(interfaceNameProblem("")).toMatch(/not an interface name/);
  });

  test("an IPv6 subnet for the default bridge inside an address pool is a problem; beside it is not", () => {
    const pools = [{ base: "fd00::/48", size: 64 }];
    expect(networkSettingProblems({ "fixed-cidr-v6": "fd00:0:0:1::/64", "default-address-pools": pools })).toEqual([
      "fixed-cidr-v6 fd00:0:0:1::/64 overlaps default-address-pools fd00::/48",
    ]);
    expect(networkSettingProblems({ "fixed-cidr-v6": "fd00:1::/64", "default-address-pools": pools })).toEqual([]);
  });
});

describe("which LAN macvlan scenarios may use", () => {
  const outsideHost = {
    netns: "docknet-outside-1",
    tag: "1",
    address: "10.213.255.6",
    engineAddress: "10.213.255.5",
    engineInterface: "dnu-1",
    ipv6Address: "fd0d:213:255:1::2",
    engineIpv6Address: "fd0d:213:255:1::1",
    sourcePath: "/",
    largePath: "/large",
    binDir: "/b",
    dns: { address: "10.213.255.6", log: "/l", pid: 1 },
  };

  test("without a named parent, both need docknet's outside host, and say why it is missing", () => {
    const without = {
      ...engine,
      outsideHostMissing:
        "docknet is not root: commands on the engine's host, and an outside host beside it, need root",
    };
    expect(missingRequirements([needs.docknetLan], without)).toEqual([without.outsideHostMissing]);
    expect(missingRequirements([needs.macvlanParent], without)).toEqual([without.outsideHostMissing]);
    expect(missingRequirements([needs.docknetLan, needs.macvlanParent], { ...engine, outsideHost })).toEqual([]);
  });

  test("with a named parent, scenarios that look from the LAN's side skip; the others need only the engine's host", () => {
    const named = { ...engine, outsideHost, macvlanParent: "eth1" };
    expect(missingRequirements([needs.docknetLan], named)[0]).toMatch(
      /the LAN behind --macvlan-parent eth1 is yours, not docknet's/,
    );
    expect(missingRequirements([needs.macvlanParent], named)).toEqual([]);
    expect(missingRequirements([needs.macvlanParent], { ...named, engineHostAccess: false })[0]).toMatch(
      /cannot run commands on the engine's host/,
    );
  });
});
