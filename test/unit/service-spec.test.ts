import { describe, expect, test } from "vitest";
import { SERVICE_FAULTS, withServiceFaults, type LabFault } from "../../harness/lab/faults.js";
import { probeStartScript } from "../../harness/lab/probe-spec.js";
import { serviceCommandLine, serviceCreateOptions, type ServiceSpecResolved } from "../../harness/lab/service-spec.js";

const base: ServiceSpecResolved = {
  name: "dn-abc123-ov-06-vip",
  image: "docknet-probe:0123456789ab",
  labels: { "docknet.run": "abc123" },
  networks: [],
  replicas: 1,
  publish: [],
  constraints: [],
  serving: [],
};

/**
 * What the docker CLI sends for a `docker service create` line, flag by flag as
 * its reference documents them: a second reading, apart from serviceCreateOptions.
 * Networks are named on the line; the API may take an id: `ids` maps one to the other.
 */
function asTheCliWouldSend(line: string, ids: Record<string, string>) {
  const [head, script] = line.split(" sh -c ");
  const words = head!.split(" ");
  expect(words.slice(0, 3)).toEqual(["docker", "service", "create"]);
  const image = words.pop()!;
  const container: Record<string, unknown> = { Image: image, Command: ["sh", "-c", script!.slice(1, -1)] };
  const task: Record<string, unknown> = { ContainerSpec: container, Networks: [] };
  const body: Record<string, unknown> = { TaskTemplate: task, EndpointSpec: { Mode: "vip" } };
  const dns = { Nameservers: [] as string[], Search: [] as string[], Options: [] as string[] };
  let anyDns = false;
  for (let i = 3; i < words.length; i += 2) {
    const [flag, value] = [words[i]!, words[i + 1]!];
    if (flag === "--name") body.Name = value;
    else if (flag === "--replicas") body.Mode = { Replicated: { Replicas: Number(value) } };
    else if (flag === "--network") {
      const fields = value.split(",").map((f) => f.split("="));
      const name = fields.find(([k]) => k === "name")![1]!;
      const aliases = fields.filter(([k]) => k === "alias").map(([, v]) => v!);
      (task.Networks as unknown[]).push({ Target: ids[name] ?? name, ...(aliases.length ? { Aliases: aliases } : {}) });
    } else if (flag === "--publish") {
      const f = Object.fromEntries(value.split(",").map((kv) => kv.split("=")));
      const endpoint = body.EndpointSpec as { Ports?: unknown[] };
      endpoint.Ports = [
        ...(endpoint.Ports ?? []),
        { Protocol: "tcp", TargetPort: Number(f.target), PublishedPort: Number(f.published), PublishMode: f.mode },
      ];
    } else if (flag === "--endpoint-mode") (body.EndpointSpec as { Mode: string }).Mode = value;
    else if (flag === "--dns" || flag === "--dns-search" || flag === "--dns-option") {
      anyDns = true;
      ({ "--dns": dns.Nameservers, "--dns-search": dns.Search, "--dns-option": dns.Options })[flag].push(value);
    } else if (flag === "--constraint")
      task.Placement = {
        Constraints: [...((task.Placement as { Constraints: string[] } | undefined)?.Constraints ?? []), value],
      };
    else throw new Error(`a flag the CLI reading does not know: ${flag}`);
  }
  if (anyDns) container.DNSConfig = dns;
  return body;
}

function agrees(spec: ServiceSpecResolved) {
  const ids = Object.fromEntries(spec.networks.map((n) => [n.name, n.target]));
  const { Labels, TaskTemplate, ...rest } = serviceCreateOptions(spec) as {
    Labels: unknown;
    TaskTemplate: { ContainerSpec: { Labels: unknown } };
  };
  const { Labels: containerLabels, ...container } = TaskTemplate.ContainerSpec;
  expect({ ...rest, TaskTemplate: { ...TaskTemplate, ContainerSpec: container } }).toEqual(
    asTheCliWouldSend(serviceCommandLine(spec), ids),
  );
  expect([Labels, containerLabels]).toEqual([spec.labels, spec.labels]);
}

describe("a service is described once: the engine call and the docker service create line agree", () => {
  const options: Record<string, Partial<ServiceSpecResolved>> = {
    "nothing more": {},
    "--replicas and --network with aliases, by id": {
      replicas: 2,
      networks: [
        { target: "x1y2z3", name: "dn-abc123-ov-06-disc", aliases: ["web", "www"] },
        { target: "bridge", name: "bridge" },
      ],
    },
    "--publish in both modes": {
      publish: [
        { published: 30080, target: 80, mode: "ingress" },
        { published: 30081, target: 81, mode: "host" },
      ],
    },
    "--endpoint-mode dnsrr": { endpointMode: "dnsrr" },
    "--dns, --dns-search, --dns-option": {
      dns: { nameservers: ["10.0.0.53"], search: ["example.test"], options: ["ndots:2"] },
    },
    "--constraint": { constraints: ["node.id!=abc", "node.id!=def"] },
    "a server in every task": { serving: [80, 8080] },
  };
  test.each(Object.entries(options))("%s", (_, option) => agrees({ ...base, ...option }));
  test("the command is the probe's start script", () => {
    expect(serviceCreateOptions({ ...base, serving: [80] }).TaskTemplate).toMatchObject({
      ContainerSpec: { Command: ["sh", "-c", probeStartScript([80])] },
    });
  });
});

test("service-options-ignored: endpoint mode, publish mode and DNS fall back to the defaults; the rest stays", () => {
  const rich: ServiceSpecResolved = {
    ...base,
    replicas: 2,
    endpointMode: "dnsrr",
    publish: [{ published: 30081, target: 81, mode: "host" }],
    dns: { nameservers: ["10.0.0.53"] },
  };
  for (const fault of Object.keys(SERVICE_FAULTS) as LabFault[]) {
    expect(serviceCreateOptions(withServiceFaults(rich, (f) => f === fault))).not.toEqual(serviceCreateOptions(rich));
  }
  expect(withServiceFaults(rich, (f) => f === "service-options-ignored")).toEqual({
    ...base,
    replicas: 2,
    endpointMode: "vip",
    publish: [{ published: 30081, target: 81, mode: "ingress" }],
  });
  expect(withServiceFaults(rich, () => false)).toEqual(rich);
});
