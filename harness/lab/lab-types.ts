import type { NetworkRef } from "./probe-spec.js";

/**
 * The lab's vocabulary, apart from the lab itself: what the engine made and
 * what it says about it, shared by the single-engine lab, the swarm's
 * cluster scope and the probe builder.
 */

/** A network the lab made, with the subnet and gateway the engine gave it. */
export interface LabNetwork extends NetworkRef {
  readonly id: string;
  readonly subnet?: string;
  readonly gateway?: string;
}

/** How the engine answered an API call: "accepted", or its error message. */
export type ApiOutcome = string;

export interface ContainerFacts {
  readonly state: string;
  readonly hostname: string;
  readonly networks: Record<
    string,
    { ip: string; prefixLength: number; gateway: string; mac: string; aliases: string[] }
  >;
  /** "80/tcp" -> ["0.0.0.0:9876", "[::]:9876"] */
  readonly ports: Record<string, string[]>;
}

export interface NetworkFacts {
  readonly driver: string;
  readonly ipv6: boolean;
  readonly internal: boolean;
  readonly subnets: { subnet: string; gateway?: string; ipRange?: string }[];
  readonly options: Record<string, string>;
  readonly containers: string[];
}
