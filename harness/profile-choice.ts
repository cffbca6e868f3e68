import { parseEngineSpec } from "./engine/engine-fetch.js";
import { parsePodmanSpec } from "./engine/podman-binaries.js";
import { UsageError } from "./exit-codes.js";

/**
 * An engine profile asked for by name (`--profile`, and each entry of `--matrix`): which private
 * engine docknet starts for it. The profile the engine then has is detected, not assumed
 * (engine-profile.ts), and recorded in the report.
 *
 *   podman               a private Podman (Debian's podman, netavark, aardvark-dns)
 *   podman-5.4, podman-trixie
 *                        a private Podman of that version or Debian suite (fetched like engines)
 *   docker               a private dockerd, the version at hand
 *   docker-28, 28, sid   a private dockerd of that version or Debian suite
 *   rootless, docker-rootless, docker-28-rootless
 *                        a private dockerd run rootless (RootlessKit), by a user docknet makes
 *   docker-iptables-legacy, docker-28-iptables-legacy
 *                        a private dockerd whose host uses iptables-legacy
 *   docker-firewalld, docker-28-firewalld
 *                        a private dockerd whose host runs firewalld
 */
export type ProfileChoice =
  | { readonly spec: string; readonly family: "podman"; readonly version?: string }
  | {
      readonly spec: string;
      readonly family: "docker";
      readonly version?: string;
      readonly rootless?: true;
      readonly firewall?: "iptables-legacy" | "firewalld";
    };

/** The profile families docknet can start here, for messages. */
export const PROFILE_EXAMPLES =
  "podman, podman-5.4, podman-trixie, docker, docker-28, 20.10, sid, rootless, docker-28-rootless, docker-iptables-legacy, docker-28-iptables-legacy, docker-firewalld";

export function parseProfileChoice(text: string): ProfileChoice {
  const spec = text.trim().toLowerCase();
  if (spec === "podman") return { spec, family: "podman" };
  if (spec.startsWith("podman-")) {
    const version = spec.slice("podman-".length);
    try {
      parsePodmanSpec(version);
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      throw new UsageError(`"${text}" is not an engine profile docknet can start (${PROFILE_EXAMPLES})`);
    }
    return { spec, family: "podman", version };
  }
  if (spec === "docker") return { spec, family: "docker" };
  if (spec === "rootless" || spec === "docker-rootless") return { spec, family: "docker", rootless: true };
  const firewall = /-(iptables-legacy|firewalld)$/.exec(spec)?.[1] as "iptables-legacy" | "firewalld" | undefined;
  if (firewall && spec === `docker-${firewall}`) return { spec, family: "docker", firewall };
  const rootless = spec.endsWith("-rootless");
  const version = spec.replace(/-rootless$|-iptables-legacy$|-firewalld$/, "").replace(/^docker[-:]/, "");
  try {
    parseEngineSpec(version);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    throw new UsageError(`"${text}" is not an engine profile docknet can start (${PROFILE_EXAMPLES})`);
  }
  return {
    spec,
    family: "docker",
    version,
    ...(rootless ? { rootless } : {}),
    ...(firewall ? { firewall } : {}),
  };
}

/** The `docknet run` arguments that start the profile's engine. */
export function profileRunArgs(choice: ProfileChoice): string[] {
  if (choice.family === "podman")
    return ["--engine", "podman", ...(choice.version ? ["--engine-version", choice.version] : [])];
  const engine = choice.rootless ? ["--engine", "rootless"] : choice.version ? [] : ["--engine", "private"];
  return [
    ...engine,
    ...(choice.version ? ["--engine-version", choice.version] : []),
    ...(choice.firewall ? ["--firewall", choice.firewall] : []),
  ];
}
