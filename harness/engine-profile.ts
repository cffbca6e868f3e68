/**
 * An engine's profile (issue 18's axis): which engine family answers, in
 * which mode, behind which firewall. Detected from what the engine says of
 * itself (/version, /info) and, where docknet can read it, the host's
 * iptables; recorded in every report, so that a verdict is read against the
 * set-up that produced it.
 */
export interface EngineProfile {
  /** docker, podman (its Docker-compatible API), or another engine speaking the API. */
  readonly family: "docker" | "podman" | "other";
  readonly mode: "rootful" | "rootless";
  /**
   * The firewall the engine programs: its own word where it says (Docker 28.2+:
   * iptables, nftables, firewalld); on Podman netavark, which programs the rules
   * and does not say with which driver (trixie's nftables, bookworm's iptables);
   * else the iptables docknet reads its rules with (iptables-nft,
   * iptables-legacy), else "unknown".
   */
  readonly firewall: string;
  /** One line: "docker 28.5.2, rootful, iptables-nft". */
  readonly description: string;
}

/** What the profile is read from: parts of GET /version and GET /info, and the iptables backend when known. */
export interface ProfileSources {
  readonly version: { readonly Version?: string; readonly Components?: readonly { readonly Name?: string }[] };
  readonly info: {
    readonly SecurityOptions?: readonly string[];
    readonly FirewallBackend?: { readonly Driver?: string };
  };
  /** "nf_tables" or "legacy", as `iptables --version` says; absent when docknet cannot read the host. */
  readonly iptablesBackend?: string;
  /** The engine's host runs firewalld (docknet started it there): engines before 28.2 do not say so themselves. */
  readonly firewalld?: boolean;
}

/** Which family answers, from the components GET /version lists. */
export function engineFamily(version: ProfileSources["version"]): EngineProfile["family"] {
  const components = (version.Components ?? []).map((c) => c.Name ?? "");
  return components.some((name) => /podman/i.test(name))
    ? "podman"
    : components.includes("Engine")
      ? "docker"
      : "other";
}

/**
 * The name containers join the default bridge by: Docker's `bridge`; Podman's own is `podman`
 * (podman-network(1)), which its compatible API lists as `bridge` but does not accept by that name.
 */
export const defaultBridgeNameOf = (family: EngineProfile["family"]): string =>
  family === "podman" ? "podman" : "bridge";

/**
 * What a probe needs beyond the family's default capabilities: busybox's ping opens a raw socket,
 * and Podman 5 leaves NET_RAW out of its defaults (containers.conf(5) › default_capabilities).
 */
export const probeCapabilitiesOf = (family: EngineProfile["family"]): readonly string[] =>
  family === "podman" ? ["NET_RAW"] : [];

export function engineProfile({ version, info, iptablesBackend, firewalld }: ProfileSources): EngineProfile {
  const family = engineFamily(version);
  const mode = (info.SecurityOptions ?? []).some((o) => /(^|,)name=rootless(,|$)/.test(o)) ? "rootless" : "rootful";
  const own = info.FirewallBackend?.Driver;
  const read = iptablesBackend === "legacy" ? "iptables-legacy" : iptablesBackend ? "iptables-nft" : undefined;
  const firewall = own
    ? own === "iptables" && read
      ? read
      : own
    : family === "podman"
      ? "netavark"
      : firewalld
        ? `${read ?? "iptables"}+firewalld`
        : (read ?? "unknown");
  return { family, mode, firewall, description: `${family} ${version.Version ?? "?"}, ${mode}, ${firewall}` };
}
