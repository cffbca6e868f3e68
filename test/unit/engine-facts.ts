import type { Capabilities } from "../../harness/capabilities.js";

/** A healthy local private engine's facts, for unit tests to vary one fact at a time. */
export const ENGINE_FACTS: Capabilities = {
  engineKind: "private",
  engineVersion: "20.10.24+dfsg1",
  apiVersion: "1.41",
  kernel: "6.1.0",
  os: "Debian",
  osType: "linux",
  architecture: "x86_64",
  networkDrivers: ["bridge", "host", "ipvlan", "macvlan", "null", "overlay"],
  defaultBridge: true,
  defaultBridgeName: "bridge",
  swarm: "inactive",
  rootless: false,
  profile: {
    family: "docker",
    mode: "rootful",
    firewall: "iptables-nft",
    description: "docker 20.10.24+dfsg1, rootful, iptables-nft",
  },
  root: true,
  engineHostAccess: true,
};
