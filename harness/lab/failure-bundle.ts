import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type Docker from "dockerode";
import { runInNetns } from "../engine/netns.js";
import type { ScenarioResult } from "../results.js";
import { RUN_LABEL, SCENARIO_LABEL } from "./labels.js";
import type { LabScope } from "./lab.js";
import { dockerodeHandle } from "./probe.js";

/**
 * What a failed scenario leaves for a person to look at, collected before its
 * teardown removes it (as `cilium connectivity test` collects a sysdump): the
 * inspect of its containers and networks, what each container sees (addresses,
 * routes, resolv.conf, hosts), the engine host's firewall, and the engine's
 * log lines of the scenario's time. Reads only; what cannot be read is noted.
 */
export async function collectFailureBundle(
  scope: LabScope,
  dir: string,
  result: ScenarioResult,
  startedAt: Date,
): Promise<void> {
  try {
    await collect(scope, dir, result, startedAt);
  } catch (error) {
    // A bundle that could only be begun still says why it ends there.
    try {
      writeFileSync(join(dir, "bundle-error.txt"), `${(error as Error).message}\n`);
    } catch {
      // the directory itself could not be made: nothing to write into
    }
  }
}

async function collect(scope: LabScope, dir: string, result: ScenarioResult, startedAt: Date): Promise<void> {
  mkdirSync(join(dir, "containers"), { recursive: true });
  mkdirSync(join(dir, "networks"), { recursive: true });
  writeFileSync(join(dir, "verdict.json"), `${JSON.stringify(result, null, 2)}\n`);
  const docker = scope.docker;
  // Its own containers, and those of the shared topologies it observed.
  const labelSets = [scope.scenarioId, ...scope.sharedScopeIds()].map((scopeId) => [
    `${RUN_LABEL}=${scope.lab.runId}`,
    `${SCENARIO_LABEL}=${scopeId}`,
  ]);
  const containers = [];
  const networks = [];
  for (const label of labelSets) {
    containers.push(...(await docker.listContainers({ all: true, filters: { label } })));
    networks.push(...(await docker.listNetworks({ filters: { label } })));
  }
  for (const c of containers) {
    const name = (c.Names[0] ?? c.Id).replace(/^\//, "");
    const inspect = await docker
      .getContainer(c.Id)
      .inspect()
      .catch((error: Error) => ({ error: error.message }));
    writeFileSync(join(dir, "containers", `${name}.json`), `${JSON.stringify(inspect, null, 2)}\n`);
    if (c.State === "running") writeFileSync(join(dir, "containers", `${name}.txt`), await whatItSees(docker, c.Id));
  }
  for (const n of networks) {
    const inspect = await docker
      .getNetwork(n.Id)
      .inspect()
      .catch((error: Error) => ({ error: error.message }));
    writeFileSync(join(dir, "networks", `${n.Name}.json`), `${JSON.stringify(inspect, null, 2)}\n`);
  }
  const host = scope.lab.engineHostNetns;
  if (host) {
    for (const [file, argv] of [
      ["iptables-save.txt", ["iptables-save"]],
      ["ip6tables-save.txt", ["ip6tables-save"]],
      ["nft-ruleset.txt", ["nft", "list", "ruleset"]],
      ["ip-addr.txt", ["ip", "addr"]],
      ["ip-route.txt", ["ip", "route", "show", "table", "all"]],
    ] as const) {
      const out = await runInNetns(host, argv, 10_000);
      writeFileSync(
        join(dir, `host-${file}`),
        out.code === 0 ? out.stdout : `${out.how}: exit ${out.code}: ${out.stderr}`,
      );
    }
  } else {
    writeFileSync(
      join(dir, "host.txt"),
      "the engine's host could not be read from here (not root, or a remote engine)\n",
    );
  }
  if (scope.lab.engineLog && existsSync(scope.lab.engineLog))
    writeFileSync(join(dir, "engine.log"), logSince(readFileSync(scope.lab.engineLog, "utf8"), startedAt));
}

/** Addresses, routes, resolv.conf and hosts, as the container sees them. */
async function whatItSees(docker: Docker, id: string): Promise<string> {
  const parts: string[] = [];
  for (const command of ["ip addr", "ip route", "cat /etc/resolv.conf", "cat /etc/hosts"]) {
    const out = await dockerodeHandle(docker, id)
      .exec(["timeout", "-s", "KILL", "5", "sh", "-c", command])
      .catch((error: Error) => ({ exitCode: -1, stdout: "", stderr: error.message }));
    parts.push(`$ ${command}\n${out.stdout}${out.exitCode === 0 ? "" : `(exit ${out.exitCode}) ${out.stderr}`}`);
  }
  return `${parts.join("\n")}\n`;
}

/** dockerd's log lines from `since` on (lines carry time="…"; a line without one belongs to the one before). */
export function logSince(log: string, since: Date): string {
  const from = since.getTime() - 1000;
  let keep = false;
  return log
    .split("\n")
    .filter((line) => {
      const stamp = /time="([^"]+)"/.exec(line)?.[1];
      if (stamp) keep = Date.parse(stamp) >= from;
      return keep && line !== "";
    })
    .map((line) => `${line}\n`)
    .join("");
}
