import { describe, expect, test } from "vitest";
import { NETWORK_FAULTS, withNetworkFaults, type LabFault } from "../../harness/lab/faults.js";
import {
  networkCommandLine,
  networkCreateOptions,
  type NetworkSpec,
  type ResolvedNetworkSpec,
} from "../../harness/lab/network-spec.js";

const named = (spec: NetworkSpec): ResolvedNetworkSpec => ({
  driver: "bridge",
  ...spec,
  name: "dn-abc123-ub-01-net",
  labels: { "docknet.run": "abc123" },
});

/**
 * What the docker CLI sends for a `docker network create` line, as its
 * documentation maps each flag (a gateway or range belongs to the subnet it
 * follows): a second reading, written apart from networkCreateOptions.
 */
function asTheCliWouldSend(line: string) {
  const words = line.split(" ");
  expect(words.slice(0, 3)).toEqual(["docker", "network", "create"]);
  const body: Record<string, unknown> = {
    Name: words.at(-1),
    CheckDuplicate: true,
    Internal: false,
    EnableIPv6: false,
    Options: {},
  };
  const ipam: Record<string, unknown>[] = [];
  for (let i = 3; i < words.length - 1; i++) {
    const flag = words[i]!;
    if (flag === "--ipv6") body.EnableIPv6 = true;
    else if (flag === "--internal") body.Internal = true;
    else if (flag === "--ipv4=false") body.EnableIPv4 = false;
    else if (flag === "--attachable") body.Attachable = true;
    else if (flag === "--ingress") body.Ingress = true;
    else if (flag === "-o" && words[i + 1] === "encrypted")
      body.Options = { ...(body.Options as object), [words[++i]!]: "" };
    else {
      const value = words[++i]!;
      if (flag === "-d") body.Driver = value;
      else if (flag === "--subnet") ipam.push({ Subnet: value });
      else if (flag === "--gateway") ipam.at(-1)!.Gateway = value;
      else if (flag === "--ip-range") ipam.at(-1)!.IPRange = value;
      else if (flag === "--aux-address") {
        const [name = "", ip = ""] = value.split("=");
        const last = ipam.at(-1)!;
        last.AuxiliaryAddresses = { ...(last.AuxiliaryAddresses as object), [name]: ip };
      } else if (flag === "-o")
        body.Options = {
          ...(body.Options as object),
          [value.slice(0, value.indexOf("="))]: value.slice(value.indexOf("=") + 1),
        };
      else throw new Error(`a flag the CLI reading does not know: ${flag}`);
    }
  }
  if (ipam.length) body.IPAM = { Driver: "default", Config: ipam };
  return body;
}

describe("a network is described once: the engine call and the docker network create line agree, option by option", () => {
  const options: Record<string, NetworkSpec> = {
    "nothing more": {},
    "-d macvlan -o parent": { driver: "macvlan", options: { parent: "eth1" } },
    "--subnet --gateway --ip-range": { subnet: "10.213.4.0/24", gateway: "10.213.4.254", ipRange: "10.213.4.128/25" },
    "--aux-address, twice": {
      subnet: "10.213.9.0/29",
      auxAddresses: { router: "10.213.9.2", printer: "10.213.9.3" },
    },
    "more subnets": { subnet: "10.213.5.0/24", moreSubnets: ["10.213.6.0/24", "10.213.7.0/24"] },
    "--ipv6 with a subnet and gateway": {
      subnet: "10.213.8.0/24",
      ipv6Subnet: "fd0d:1::/64",
      ipv6Gateway: "fd0d:1::ff",
    },
    "--ipv6 from the pools": { ipv6: true },
    "--ipv4=false": { ipv4: false, ipv6: true },
    "--internal": { internal: true },
    "an overlay: --attachable --ingress -o encrypted": {
      driver: "overlay",
      attachable: true,
      ingress: true,
      encrypted: true,
      mtu: 1400,
    },
    "mtu, icc and the interface prefix as driver options": {
      mtu: 1400,
      icc: false,
      interfacePrefix: "dn",
      options: { "com.docker.network.bridge.name": "br-x" },
    },
  };
  test.each(Object.entries(options))("%s", (_, spec) => {
    const resolved = named(spec);
    const { Labels, ...engineCall } = networkCreateOptions(resolved);
    expect(engineCall).toEqual(asTheCliWouldSend(networkCommandLine(resolved)));
    expect(Labels).toEqual(resolved.labels);
  });
});

describe("network faults are transforms of the spec", () => {
  const rich: NetworkSpec = {
    driver: "bridge",
    subnet: "10.213.4.0/24",
    gateway: "10.213.4.254",
    auxAddresses: { router: "10.213.4.2" },
    internal: true,
    mtu: 1400,
    icc: true,
    interfacePrefix: "dn",
    attachable: true,
    encrypted: true,
  };
  test.each(Object.keys(NETWORK_FAULTS) as LabFault[])("%s changes what the engine gets", (fault) => {
    expect(networkCreateOptions(named(withNetworkFaults(rich, (f) => f === fault)))).not.toEqual(
      networkCreateOptions(named(rich)),
    );
    expect(withNetworkFaults(rich, () => false)).toEqual(rich);
  });

  test("what each one does", () => {
    expect(withNetworkFaults(rich, (f) => f === "network-options-ignored")).toEqual({
      driver: "bridge",
      attachable: true,
      encrypted: true,
    });
    expect(
      networkCreateOptions(named(withNetworkFaults(rich, (f) => f === "overlays-not-attachable"))).Attachable,
    ).toBeUndefined();
    expect(
      networkCreateOptions(named(withNetworkFaults(rich, (f) => f === "overlay-encryption-dropped"))).Options,
    ).not.toHaveProperty("encrypted");
    expect(
      networkCreateOptions(named(withNetworkFaults(rich, (f) => f === "user-networks-icc-off"))).Options?.[
        "com.docker.network.bridge.enable_icc"
      ],
    ).toBe("false");
    expect(withNetworkFaults(rich, (f) => f === "ipv6-on-every-network").ipv6Subnet).toBe("pick");
    // A network that asked for IPv6 keeps what it asked for.
    expect(withNetworkFaults({ ipv6: true }, (f) => f === "ipv6-on-every-network")).toEqual({ ipv6: true });
  });
});
