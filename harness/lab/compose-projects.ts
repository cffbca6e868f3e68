import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type Docker from "dockerode";
import { cancellationPoint } from "../cancellation.js";
import { CheckFailed } from "../evidence.js";
import { runCommand } from "../host-command.js";
import { observeUntil } from "../polling.js";
import { composeCommandLine, composeDocument, composeYaml, type ComposeProjectSpec } from "./compose-spec.js";
import { withComposeFaults, type LabFault } from "./faults.js";
import type { NetworkRef } from "./probe-spec.js";
import { READY_MARK } from "./probe-spec.js";
import { dockerodeHandle, Probe } from "./probe.js";
import type { UndoStack } from "./undo-stack.js";
import type { NetworkCreationGate } from "./network-creation-gate.js";

/** A project Compose brought up: its services as probes, its networks by their keys in the file. */
export interface ComposeProject {
  /** The project name (`docker compose -p NAME`). */
  readonly name: string;
  /** The command that brought it up, the compose file inline. */
  readonly how: string;
  service(name: string): Probe;
  /** A network of the file by its key ("default", "back"), as the engine names it. */
  network(key: string): NetworkRef;
}

/** What the projects need of the lab: the Compose binary, the engine's socket, the probe image. */
export interface ComposeLab {
  readonly docker: Docker;
  readonly image: string;
  readonly dockerHost: string | undefined;
  readonly composeBinary: string | undefined;
  readonly networkCreation: NetworkCreationGate;
}

/**
 * Compose projects, as one scenario uses them (`lab.compose`): brought up by Debian's Compose v2
 * (docknet engine compose) against the lab's engine, every container and network carrying the
 * scope's labels; `down` at teardown, and the label sweep after it.
 */
export class ComposeProjects {
  constructor(
    private readonly lab: ComposeLab,
    private readonly scope: {
      name(short: string): string;
      labels(): Record<string, string>;
      has(fault: LabFault): boolean;
    },
    private readonly undo: UndoStack,
  ) {}

  /** `docker compose up -d` of the project; a project Compose refuses fails the scenario with Compose's words. */
  async up(short: string, spec: ComposeProjectSpec): Promise<ComposeProject> {
    cancellationPoint();
    const { composeBinary, dockerHost } = this.lab;
    if (!composeBinary || !dockerHost) throw new Error("this run has no Compose (declare needs.compose)");
    const name = this.scope.name(short);
    const asked = composeYaml(composeDocument(spec, { image: this.lab.image, labels: this.scope.labels() }));
    const given = composeYaml(
      composeDocument(
        withComposeFaults(spec, (f) => this.scope.has(f)),
        { image: this.lab.image, labels: this.scope.labels() },
      ),
    );
    const how = composeCommandLine(name, asked);
    const dir = mkdtempSync(join(tmpdir(), `docknet-compose-${name}-`));
    this.undo.push("before-engine-objects", `rm -r ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, "compose.yaml");
    writeFileSync(file, given);
    const env = { DOCKER_HOST: dockerHost };
    // Pushed before `up`: a project half brought up is taken down too.
    this.undo.push("before-engine-objects", `docker compose -p ${name} down`, () =>
      runCommand(composeBinary, ["-p", name, "-f", file, "down", "--remove-orphans", "--timeout", "0"], {
        env,
        timeoutMs: 120_000,
      }),
    );
    // `up` creates the project's networks: no steady check may overlap it (network-creation-gate.ts).
    const up = await this.lab.networkCreation.creating(() =>
      runCommand(composeBinary, ["-p", name, "-f", file, "up", "-d", "--no-build"], { env, timeoutMs: 180_000 }),
    );
    if (up.code !== 0)
      throw new CheckFailed({
        claim: `docker compose up (project ${name})`,
        expected: "accepted",
        observed: (up.stderr || up.stdout).trim().split("\n").slice(-2).join(" "),
        how,
        ok: false,
      });
    const containers = await this.lab.docker.listContainers({
      all: true,
      filters: { label: [`com.docker.compose.project=${name}`] },
    });
    const services = new Map<string, Probe>();
    for (const c of containers) {
      const service = c.Labels["com.docker.compose.service"] ?? "";
      const probe = new Probe(dockerodeHandle(this.lab.docker, c.Id), (c.Names[0] ?? c.Id).replace(/^\//, ""));
      services.set(service, probe);
    }
    // A service is ready once its start script has started its servers (as for probes).
    await Promise.all(
      [...services.values()].map((probe) =>
        observeUntil(
          async () => ({ value: (await probe.exec(["test", "-e", READY_MARK])).code, how: "" }),
          (code) => code === 0,
          10_000,
        ),
      ),
    );
    const keys = new Set(Object.keys(spec.networks ?? {}));
    return {
      name,
      how,
      service(service) {
        const probe = services.get(service);
        if (!probe)
          throw new Error(`project ${name} has no service ${service} (it has ${[...services.keys()].join(", ")})`);
        return probe;
      },
      network(key) {
        const external = spec.networks?.[key]?.external;
        if (!external && key !== "default" && !keys.has(key)) throw new Error(`project ${name} has no network ${key}`);
        return { name: external ?? `${name}_${key}`, kind: "user" };
      },
    };
  }
}
