import { stringify } from "yaml";
import { probeStartScript } from "./probe-spec.js";

/**
 * A Compose project described once, as scenarios write it: services of docknet's probe (servers
 * it runs, networks with aliases, ports) and networks. The compose file the engine gets and the
 * command line of the evidence are pure functions of it (unit-tested).
 */
export interface ComposeServiceSpec {
  /** TCP ports the service's busybox httpd serves. */
  readonly serving?: readonly number[];
  /** The project's networks the service joins (none: the project's default network), with aliases. */
  readonly networks?: Readonly<Record<string, { readonly aliases?: readonly string[]; readonly gwPriority?: number }>>;
  /** `network_mode` instead of networks. */
  readonly networkMode?: "bridge" | "host" | "none";
  /** Compose's short syntax: "127.0.0.1:8080:80", "8080:80". */
  readonly ports?: readonly string[];
}

export interface ComposeNetworkSpec {
  readonly internal?: boolean;
  /** An existing network (the engine's name) the project joins instead of creating one. */
  readonly external?: string;
}

export interface ComposeProjectSpec {
  readonly services: Readonly<Record<string, ComposeServiceSpec>>;
  readonly networks?: Readonly<Record<string, ComposeNetworkSpec>>;
}

/** The compose file: every service runs the probe image (never pulled), and everything Compose creates carries docknet's labels. */
export function composeDocument(
  spec: ComposeProjectSpec,
  context: { readonly image: string; readonly labels: Readonly<Record<string, string>> },
): Record<string, unknown> {
  const services = Object.fromEntries(
    Object.entries(spec.services).map(([name, service]) => {
      const networks = service.networks
        ? Object.fromEntries(
            Object.entries(service.networks).map(([key, endpoint]) => [
              key,
              {
                ...(endpoint.aliases?.length ? { aliases: [...endpoint.aliases] } : {}),
                ...(endpoint.gwPriority !== undefined ? { gw_priority: endpoint.gwPriority } : {}),
              },
            ]),
          )
        : undefined;
      return [
        name,
        {
          image: context.image,
          pull_policy: "never",
          command: ["sh", "-c", probeStartScript(service.serving ?? [])],
          labels: { ...context.labels },
          ...(service.networkMode ? { network_mode: service.networkMode } : networks ? { networks } : {}),
          ...(service.ports?.length ? { ports: [...service.ports] } : {}),
        },
      ];
    }),
  );
  const keys = new Set([...Object.keys(spec.networks ?? {})]);
  const usesDefault = Object.values(spec.services).some(
    (s) => !s.networkMode && (!s.networks || "default" in s.networks),
  );
  if (usesDefault) keys.add("default");
  const networks = Object.fromEntries(
    [...keys].map((key) => {
      const network = spec.networks?.[key] ?? {};
      if (network.external) return [key, { external: true, name: network.external }];
      return [key, { labels: { ...context.labels }, ...(network.internal ? { internal: true } : {}) }];
    }),
  );
  return { services, ...(Object.keys(networks).length ? { networks } : {}) };
}

export function composeYaml(document: Record<string, unknown>): string {
  return stringify(document);
}

/** What a person pastes to bring the project up the same way (the file inline). */
export function composeCommandLine(project: string, yaml: string): string {
  return `docker compose -p ${project} -f - up -d <<'EOF'\n${yaml}EOF`;
}
