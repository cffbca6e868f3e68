import type Docker from "dockerode";
import { probeStartScript } from "./probe-spec.js";

/** A swarm service as a scenario asks for it, named and placed: one description for the engine call and the evidence. */
export interface ServiceSpecResolved {
  readonly name: string;
  readonly image: string;
  readonly labels: Readonly<Record<string, string>>;
  /** `target` is what the API takes (an overlay's id, or a name); `name` what a person types. */
  readonly networks: readonly {
    readonly target: string;
    readonly name: string;
    readonly aliases?: readonly string[];
  }[];
  readonly replicas: number;
  readonly endpointMode?: "vip" | "dnsrr";
  /** Through the routing mesh ("ingress"), or on the task's node ("host"). */
  readonly publish: readonly {
    readonly published: number;
    readonly target: number;
    readonly mode: "ingress" | "host";
  }[];
  readonly dns?: {
    readonly nameservers?: readonly string[];
    readonly search?: readonly string[];
    readonly options?: readonly string[];
  };
  /** Placement constraints ("node.id==…"). */
  readonly constraints: readonly string[];
  /** Ports busybox httpd serves in every task. */
  readonly serving: readonly number[];
}

/** The engine call (POST /services/create). */
export function serviceCreateOptions(spec: ServiceSpecResolved): Docker.CreateServiceOptions {
  const container: Docker.ContainerSpec = {
    Image: spec.image,
    Labels: { ...spec.labels },
    Command: ["sh", "-c", probeStartScript(spec.serving)],
  };
  if (spec.dns)
    container.DNSConfig = {
      Nameservers: [...(spec.dns.nameservers ?? [])],
      Search: [...(spec.dns.search ?? [])],
      Options: [...(spec.dns.options ?? [])],
    };
  const endpoint: Docker.EndpointSpec = { Mode: spec.endpointMode ?? "vip" };
  if (spec.publish.length)
    endpoint.Ports = spec.publish.map((p) => ({
      Protocol: "tcp",
      TargetPort: p.target,
      PublishedPort: p.published,
      PublishMode: p.mode,
    }));
  return {
    Name: spec.name,
    Labels: { ...spec.labels },
    TaskTemplate: {
      ContainerSpec: container,
      Networks: spec.networks.map(({ target, aliases }) => ({
        Target: target,
        ...(aliases?.length ? { Aliases: [...aliases] } : {}),
      })),
      ...(spec.constraints.length ? { Placement: { Constraints: [...spec.constraints] } } : {}),
    },
    Mode: { Replicated: { Replicas: spec.replicas } },
    EndpointSpec: endpoint,
  };
}

/** The `docker service create` line a user would type for the same service (evidence). */
export function serviceCommandLine(spec: ServiceSpecResolved): string {
  const args = [`--name ${spec.name}`, `--replicas ${spec.replicas}`];
  for (const { name, aliases } of spec.networks)
    args.push(`--network name=${name}${(aliases ?? []).map((a) => `,alias=${a}`).join("")}`);
  for (const p of spec.publish) args.push(`--publish published=${p.published},target=${p.target},mode=${p.mode}`);
  if (spec.endpointMode) args.push(`--endpoint-mode ${spec.endpointMode}`);
  spec.dns?.nameservers?.forEach((server) => args.push(`--dns ${server}`));
  spec.dns?.search?.forEach((domain) => args.push(`--dns-search ${domain}`));
  spec.dns?.options?.forEach((option) => args.push(`--dns-option ${option}`));
  spec.constraints.forEach((constraint) => args.push(`--constraint ${constraint}`));
  return `docker service create ${args.join(" ")} ${spec.image} sh -c '${probeStartScript(spec.serving)}'`;
}
