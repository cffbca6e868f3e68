import type { OutsideHost } from "./outside-host.js";

/** A Docker API endpoint docknet runs against. */
export interface Engine {
  readonly kind: "current" | "private";
  /** The DOCKER_HOST-style address of the engine's API. */
  readonly dockerHost: string;
  /** One line for people: what this engine is and where it came from. */
  readonly description: string;
  /** The address of an engine on another host (ssh://…), reached through a tunnel at dockerHost. */
  readonly remote?: string;
  /** The network namespace a private engine lives in. */
  readonly netns?: string;
  /**
   * Where the engine's bridges and firewall rules live, when not in `netns`: a rootless engine's
   * RootlessKit namespace. Commands on the engine's host run there.
   */
  readonly hostNetns?: string;
  /** The engine's host runs firewalld: the bus firewall-cmd reaches it on. */
  readonly firewalld?: { readonly dbusAddress: string };
  /** A private engine's daemon log. */
  readonly logFile?: string;
  /** The /etc/resolv.conf a private engine's dockerd sees: a file of its own (engineResolvConf). */
  readonly resolvConf?: string;
  /** The outside world docknet built around a private engine, if any. */
  readonly outsideHost?: OutsideHost;
  /** Why the engine can no longer be used mid-run (it died, it stopped answering), in one line; undefined while it serves. */
  lost(): Promise<string | undefined>;
  /** Stops and removes a private engine; does nothing for the current one. */
  stop(): Promise<void>;
  /** Restarts a private engine's dockerd with another daemon.json (containers survive with live-restore). */
  restart?(daemonConfig: Record<string, unknown>): Promise<void>;
}

/**
 * podman: a private Podman serving the Docker-compatible API, in docknet's own namespace;
 * rootless: a private dockerd run rootless (RootlessKit, slirp4netns) by a user docknet makes.
 */
export type EngineChoice = "auto" | "current" | "private" | "podman" | "rootless";
