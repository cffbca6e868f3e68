import type Docker from "dockerode";
import type { EndpointSpec } from "./lab.js";

/** Translations between the lab's words and the shapes of the Docker API. */

export function endpointConfig(endpoint: EndpointSpec): Docker.EndpointSettings {
  return {
    ...(endpoint.aliases?.length ? { Aliases: endpoint.aliases } : {}),
    ...(endpoint.ip || endpoint.ip6
      ? { IPAMConfig: { ...(endpoint.ip ? { IPv4Address: endpoint.ip } : {}), ...(endpoint.ip6 ? { IPv6Address: endpoint.ip6 } : {}) } }
      : {}),
    ...(endpoint.links?.length ? { Links: endpoint.links } : {}),
  };
}

/** The engine's own words from a failed API call. */
export function errorText(error: unknown): string {
  if (error && typeof error === "object" && "json" in error) {
    const json = (error as { json?: { message?: string } }).json;
    if (json?.message) return json.message;
  }
  return error instanceof Error ? error.message : String(error);
}
