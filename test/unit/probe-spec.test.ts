import { describe, expect, test } from "vitest";
import { PROBE_FAULTS, withProbeFaults, type LabFault } from "../../harness/lab/faults.js";
import {
  connectCommandLine,
  endpointConfig,
  plainProbeSpec,
  probeCommandLine,
  probeContainerConfig,
  probeStartScript,
  type ProbeSpec,
} from "../../harness/lab/probe-spec.js";

const base: ProbeSpec = plainProbeSpec({
  name: "dn-abc123-ub-01-a",
  image: "docknet-probe:0123456789ab",
  labels: { "docknet.run": "abc123" },
  networks: [{ network: { name: "dn-abc123-ub-01-net", kind: "user", driver: "bridge" }, endpoint: {} }],
  servers: [],
});

/**
 * What the docker CLI sends for a `docker run` line, as its documentation maps
 * each flag: a second reading of the evidence, written apart from
 * probeContainerConfig, so that the two can be held against each other.
 */
function asTheCliWouldSend(line: string) {
  const words = line.split(" ");
  expect(words.slice(0, 3)).toEqual(["docker", "run", "-d"]);
  const body: Record<string, unknown> & { HostConfig: Record<string, unknown> } = { HostConfig: {} };
  const host = body.HostConfig;
  const networks: string[] = [];
  const endpoint: Record<string, unknown> = {};
  const links: string[] = [];
  const push = (target: Record<string, unknown>, key: string, value: unknown) =>
    void (target[key] = [...((target[key] as unknown[]) ?? []), value]);
  for (let i = 3; i < words.length - 1; i++) {
    const [flag, value] = [words[i]!, words[i + 1]!];
    if (flag === "-P") {
      host.PublishAllPorts = true;
      continue;
    }
    i++;
    if (flag === "--name") body.name = value;
    else if (flag === "--network" && value.startsWith("name=")) {
      // The long form, Engine 28's: name=NET,gw-priority=N (the priority belongs to that network's endpoint).
      const fields = Object.fromEntries(value.split(",").map((kv) => kv.split("=") as [string, string]));
      if (networks.length === 0 && fields["gw-priority"]) endpoint.GwPriority = Number(fields["gw-priority"]);
      networks.push(fields.name!);
    } else if (flag === "--network") networks.push(value);
    else if (flag === "--network-alias") push(endpoint, "Aliases", value);
    else if (flag === "--ip") endpoint.IPAMConfig = { ...(endpoint.IPAMConfig as object), IPv4Address: value };
    else if (flag === "--ip6") endpoint.IPAMConfig = { ...(endpoint.IPAMConfig as object), IPv6Address: value };
    else if (flag === "-p") {
      const parts = value.split(":");
      const port = parts.pop()!;
      const key = port.includes("/") ? port : `${port}/tcp`;
      const [hostIp, hostPort] = parts.length === 2 ? parts : [undefined, parts[0] ?? ""];
      body.ExposedPorts = { ...(body.ExposedPorts as object), [key]: {} };
      const bindings = (host.PortBindings ?? {}) as Record<string, unknown[]>;
      bindings[key] = [...(bindings[key] ?? []), { HostPort: hostPort, ...(hostIp ? { HostIp: hostIp } : {}) }];
      host.PortBindings = bindings;
    } else if (flag === "--expose") body.ExposedPorts = { ...(body.ExposedPorts as object), [`${value}/tcp`]: {} };
    else if (flag === "--link") links.push(value);
    else if (flag === "--add-host") push(host, "ExtraHosts", value);
    else if (flag === "-e") push(body, "Env", value);
    else if (flag === "--dns") push(host, "Dns", value);
    else if (flag === "--dns-search") push(host, "DnsSearch", value);
    else if (flag === "--dns-option") push(host, "DnsOptions", value);
    else if (flag === "--sysctl")
      host.Sysctls = { ...(host.Sysctls as object), [value.split("=")[0]!]: value.split("=")[1] };
    else if (flag === "--cap-add") push(host, "CapAdd", value);
    else if (flag === "--hostname") body.Hostname = value;
    else if (flag === "--restart") host.RestartPolicy = { Name: value };
    else throw new Error(`a flag the CLI reading does not know: ${flag}`);
  }
  body.Image = words.at(-1);
  host.NetworkMode = networks[0];
  // The CLI sends links on a user-defined network as the endpoint's, on the default bridge as HostConfig.Links.
  if (links.length && networks[0]?.startsWith("dn-")) endpoint.Links = links;
  else if (links.length) host.Links = links;
  // In a namespace mode (host, none, container:) there is no endpoint to configure.
  const namespaceMode = ["host", "none"].includes(networks[0]!) || networks[0]!.startsWith("container:");
  if (!namespaceMode || Object.keys(endpoint).length > 0)
    body.NetworkingConfig = { EndpointsConfig: { [networks[0]!]: endpoint } };
  return { body, laterNetworks: networks.slice(1) };
}

function agrees(spec: ProbeSpec) {
  const { create, joinBeforeStart } = probeContainerConfig(spec);
  const { body, laterNetworks } = asTheCliWouldSend(probeCommandLine(spec));
  const { Labels, Cmd, ...engineCall } = create;
  expect(engineCall).toEqual(body);
  expect(Labels).toEqual(spec.labels);
  expect(Cmd).toEqual(["sh", "-c", probeStartScript(spec.servers)]);
  expect(joinBeforeStart.map((j) => j.network)).toEqual(laterNetworks);
}

describe("a probe is described once: the engine call and the docker run line agree, option by option", () => {
  const options: Record<string, Partial<ProbeSpec>> = {
    "nothing more": {},
    "--network-alias, --ip, --ip6 and a second network": {
      networks: [
        { network: base.networks[0]!.network, endpoint: { aliases: ["web", "www"], ip: "10.213.1.5", ip6: "fd00::5" } },
        { network: { name: "dn-abc123-ub-01-back", kind: "user" }, endpoint: { aliases: ["db"] } },
      ],
    },
    "-p in every form": {
      published: [
        { containerPort: "80/tcp", hostPort: "8080" },
        { containerPort: "80/tcp", hostPort: "8081", hostIp: "127.0.0.1" },
        { containerPort: "53/udp", hostPort: "5353" },
        { containerPort: "81/tcp", hostPort: "9090-9092" },
        { containerPort: "82/tcp", hostPort: "" },
      ],
    },
    "--expose and -P": { exposed: ["8080/tcp"], publishAll: true },
    "--link on a user network": { links: [{ target: "dn-abc123-ub-01-b", alias: "db" }] },
    "--link on the default bridge": {
      networks: [{ network: { name: "bridge", kind: "default-bridge" }, endpoint: {} }],
      links: [{ target: "x", alias: "y" }],
    },
    "--add-host": { extraHosts: [{ host: "outside", ipAddress: "10.213.255.2" }] },
    "-e": { environment: { A: "1", B: "two" } },
    "--dns": { dnsServers: ["10.213.255.53", "10.213.255.54"] },
    "--dns-search and --dns-option": { dnsSearch: ["docknet.test", "."], dnsOptions: ["ndots:9", "timeout:1"] },
    "--sysctl": { sysctls: { "net.ipv6.conf.all.disable_ipv6": "1" } },
    "--cap-add (what Podman's defaults lack)": { capAdd: ["NET_RAW"] },
    "--hostname": { hostname: "box" },
    "--restart": { restartPolicy: "always" },
    "--network name=…,gw-priority=… (Engine 28)": {
      networks: [
        { network: base.networks[0]!.network, endpoint: { gwPriority: 2 } },
        { network: { name: "dn-abc123-ub-01-back", kind: "user" }, endpoint: { gwPriority: -1 } },
      ],
    },
    "--network host": { networks: [{ network: { name: "host", kind: "host" }, endpoint: {} }] },
  };
  test.each(Object.entries(options))("%s", (_, option) => agrees({ ...base, ...option }));
});

test("a swarm node's probe is the same spec, its line naming the node's engine", () => {
  const spec = plainProbeSpec({
    name: "dn-abc123-ov-12-a",
    image: base.image,
    labels: {},
    networks: [{ network: { name: "dn-abc123-ov-12-net", kind: "user" }, endpoint: { aliases: ["a"] } }],
    servers: [80],
  });
  const line = probeCommandLine(spec, { dockerHost: "unix:///tmp/docknet/labs/x/node2.sock" });
  expect(line).toBe(
    `docker -H unix:///tmp/docknet/labs/x/node2.sock run -d --name dn-abc123-ov-12-a --network dn-abc123-ov-12-net --network-alias a ${base.image}`,
  );
  agrees(spec);
});

describe("probe faults are transforms of the spec: the engine gets the broken one, the evidence shows what was asked", () => {
  const rich: ProbeSpec = {
    ...base,
    published: [{ containerPort: "80/tcp", hostPort: "8080", hostIp: "127.0.0.1" }],
    publishAll: true,
    links: [{ target: "b", alias: "db" }],
    extraHosts: [{ host: "outside", ipAddress: "10.213.255.2" }],
    dnsServers: ["10.213.255.53"],
    dnsSearch: ["docknet.test"],
    dnsOptions: ["ndots:9"],
    servers: [80],
    restartPolicy: "always",
  };
  test.each(Object.keys(PROBE_FAULTS) as LabFault[])("%s", (fault) => {
    const broken = withProbeFaults(rich, (f) => f === fault);
    expect(probeContainerConfig(broken), "the engine call changes").not.toEqual(probeContainerConfig(rich));
    expect(withProbeFaults(rich, () => false)).toEqual(rich);
  });

  test("what each one takes away", () => {
    const engine = (fault: LabFault) => probeContainerConfig(withProbeFaults(rich, (f) => f === fault)).create;
    expect(engine("publish-dropped").HostConfig.PortBindings).toBeUndefined();
    expect(engine("publish-dropped").HostConfig.PublishAllPorts).toBeUndefined();
    expect(engine("publish-host-ip-ignored").HostConfig.PortBindings).toEqual({ "80/tcp": [{ HostPort: "8080" }] });
    expect(
      engine("links-dropped").NetworkingConfig?.EndpointsConfig?.[base.networks[0]!.network.name]?.Links,
    ).toBeUndefined();
    expect(engine("extra-hosts-dropped").HostConfig.ExtraHosts).toBeUndefined();
    const dns = engine("dns-settings-dropped").HostConfig;
    expect([dns.Dns, dns.DnsSearch, dns.DnsOptions]).toEqual([undefined, undefined, undefined]);
    expect(engine("servers-down").Cmd).toEqual(["sh", "-c", probeStartScript([])]);
    expect(engine("restart-policy-dropped").HostConfig.RestartPolicy).toBeUndefined();
    expect(engine("ipv6-disabled-in-containers").HostConfig.Sysctls).toEqual({ "net.ipv6.conf.all.disable_ipv6": "1" });
    // A container in the host's namespace takes no namespaced sysctls: the fault leaves it alone.
    const onHost = { ...rich, networks: [{ network: { name: "host", kind: "host" as const }, endpoint: {} }] };
    expect(withProbeFaults(onHost, (f) => f === "ipv6-disabled-in-containers")).toEqual(onHost);
  });
});

test("docker network connect's line names every endpoint setting the engine call gets", () => {
  expect(connectCommandLine({ aliases: ["db"], ip: "10.213.1.5", ip6: "fd00::5", gwPriority: 2 }, "net", "box")).toBe(
    "docker network connect --alias db --ip 10.213.1.5 --ip6 fd00::5 --gw-priority 2 net box",
  );
  expect(endpointConfig({ aliases: ["db"], ip: "10.213.1.5", ip6: "fd00::5", gwPriority: 2 })).toEqual({
    Aliases: ["db"],
    IPAMConfig: { IPv4Address: "10.213.1.5", IPv6Address: "fd00::5" },
    GwPriority: 2,
  });
  expect(connectCommandLine({}, "net", "box")).toBe("docker network connect net box");
});
