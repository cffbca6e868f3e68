import { parseEngineSpec } from "./engine/engine-fetch.js";
import { UsageError } from "./exit-codes.js";

/**
 * An engine profile asked for by name (`--profile`, and each entry of `--matrix`): which private
 * engine docknet starts for it. The profile the engine then has is detected, not assumed
 * (engine-profile.ts), and recorded in the report.
 *
 *   podman               a private Podman (Debian's podman, netavark, aardvark-dns)
 *   docker               a private dockerd, the version at hand
 *   docker-28, 28, sid   a private dockerd of that version or Debian suite
 */
export type ProfileChoice =
  | { readonly spec: string; readonly family: "podman" }
  | { readonly spec: string; readonly family: "docker"; readonly version?: string };

/** The profile families docknet can start here, for messages. */
export const PROFILE_EXAMPLES = "podman, docker, docker-28, 20.10, sid";

export function parseProfileChoice(text: string): ProfileChoice {
  const spec = text.trim().toLowerCase();
  if (spec === "podman") return { spec, family: "podman" };
  if (spec === "docker") return { spec, family: "docker" };
  const version = spec.replace(/^docker[-:]/, "");
  try {
    parseEngineSpec(version);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    throw new UsageError(`"${text}" is not an engine profile docknet can start (${PROFILE_EXAMPLES})`);
  }
  return { spec, family: "docker", version };
}

/** The `docknet run` arguments that start the profile's engine. */
export function profileRunArgs(choice: ProfileChoice): string[] {
  if (choice.family === "podman") return ["--engine", "podman"];
  return choice.version ? ["--engine-version", choice.version] : ["--engine", "private"];
}
