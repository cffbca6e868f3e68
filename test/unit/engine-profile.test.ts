import { describe, expect, test } from "vitest";
import { engineProfile } from "../../harness/engine-profile.js";

describe("an engine's profile, from what it says of itself", () => {
  test("Docker, rootful, its rules read with iptables-nft", () => {
    expect(
      engineProfile({
        version: { Version: "28.5.2", Components: [{ Name: "Engine" }, { Name: "containerd" }, { Name: "runc" }] },
        info: { SecurityOptions: ["name=seccomp,profile=builtin", "name=cgroupns"] },
        iptablesBackend: "nf_tables",
      }),
    ).toEqual({
      family: "docker",
      mode: "rootful",
      firewall: "iptables-nft",
      description: "docker 28.5.2, rootful, iptables-nft",
    });
  });

  test("rootless Docker 29 on its nftables backend, as the engine itself says", () => {
    expect(
      engineProfile({
        version: { Version: "29.1.0", Components: [{ Name: "Engine" }] },
        info: {
          SecurityOptions: ["name=seccomp,profile=builtin", "name=rootless"],
          FirewallBackend: { Driver: "nftables" },
        },
      }),
    ).toMatchObject({ family: "docker", mode: "rootless", firewall: "nftables" });
  });

  test("Podman's compatible API, and an engine that names no component", () => {
    expect(
      engineProfile({
        version: { Version: "4.3.1", Components: [{ Name: "Podman Engine" }, { Name: "Conmon" }] },
        info: {},
        iptablesBackend: "legacy",
      }),
    ).toMatchObject({
      family: "podman",
      // netavark programs Podman's rules, whichever iptables the host has: docknet does not guess its driver.
      firewall: "netavark",
      description: "podman 4.3.1, rootful, netavark",
    });
    expect(engineProfile({ version: { Version: "1.0" }, info: {} })).toMatchObject({
      family: "other",
      firewall: "unknown",
    });
  });
});
