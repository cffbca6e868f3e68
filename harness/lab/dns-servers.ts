import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type Docker from "dockerode";
import type { Observation } from "../evidence.js";
import type { NetnsRef } from "../engine/netns.js";
import { startDnsStub, type DnsStub } from "../engine/outside-host.js";
import { terminateProcess } from "../host-command.js";
import type { ScopeWorld } from "./faults.js";
import type { NetworkRef } from "./probe-spec.js";
import type { Probe } from "./probe.js";
import type { UndoStack } from "./undo-stack.js";

/**
 * docknet's stub DNS servers (busybox has none), as one scenario uses them
 * (`lab.dns`): run in a container's network namespace or on the engine's
 * host, answering A queries for a zone and logging every query's source.
 * Stopped at teardown. With the servers-down fault they are never started.
 */
export class DnsServers {
  constructor(
    private readonly lab: { readonly runId: string; readonly engineNetns: string | undefined },
    private readonly docker: Docker,
    private readonly addressOn: (probe: Probe, network: NetworkRef) => Promise<Observation<string>>,
    private readonly world: () => ScopeWorld,
    private readonly undo: UndoStack,
  ) {}

  /** A DNS server in a container, on its address on `network` (needs.engineHost). */
  async serverIn(probe: Probe, network: NetworkRef, zone: Record<string, string>): Promise<DnsStub> {
    const address = (await this.addressOn(probe, network)).value;
    const pid = (await this.docker.getContainer(probe.id).inspect()).State.Pid;
    return this.start(`/proc/${pid}/ns/net`, address, zone);
  }

  /** A DNS server on the engine's host itself, at `address` (e.g. a loopback resolver, 127.0.0.1); needs.engineNamespace. */
  async serverOnEngineHost(address: string, zone: Record<string, string>): Promise<DnsStub> {
    const netns = this.lab.engineNetns;
    if (!netns) throw new Error("this engine's namespace is not docknet's (declare needs.engineNamespace)");
    return this.start(netns, address, zone);
  }

  /** Who asked a stub DNS server for `name`: the distinct source addresses of its queries (the source shows who forwarded them). */
  async askers(stub: DnsStub, name: string): Promise<Observation<string[]>> {
    const text = existsSync(stub.log) ? readFileSync(stub.log, "utf8") : "";
    const askers = text
      .split("\n")
      .map((line) => line.split(" "))
      .filter(([, asked]) => asked === name)
      .map(([from = ""]) => from);
    return { value: [...new Set(askers)], how: `cat ${stub.log} (the stub DNS server's query log)`, raw: text };
  }

  private async start(netns: NetnsRef, address: string, zone: Record<string, string>): Promise<DnsStub> {
    const dir = mkdtempSync(join(tmpdir(), `docknet-dns-${this.lab.runId}-`));
    this.undo.push("before-engine-objects", `rm -r ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
    const log = join(dir, "queries.log");
    if (!this.world().serversRun) return { address, log, pid: 0 };
    const stub = await startDnsStub(netns, address, log, zone);
    this.undo.push("before-engine-objects", `kill the stub DNS server (pid ${stub.pid})`, () =>
      terminateProcess(stub.pid, 2000),
    );
    return stub;
  }
}
