import { EngineUnavailable, UsageError } from "../exit-codes.js";
import { pingEngine } from "../engine/docker-host.js";
import { engineOfVersion } from "../engine/engine-fetch.js";
import {
  listLabs,
  startMultiHostLab,
  stopLab,
  validateLabSize,
  type MultiHostLabState,
} from "../engine/multi-host-lab.js";
import { privateEnginePrerequisites } from "../engine/private-engine.js";
import { watchInterrupts } from "./interrupts.js";
import { labsJson } from "../../reports/json.js";

/** A lab for people: its nodes, and how to reach each. */
function labText(lab: MultiHostLabState, answers?: string[]): string {
  const kept = lab.held ? "kept until docknet lab down" : `for run process ${lab.ownerPid}`;
  const lines = [`lab ${lab.id} (${kept}; bridge ${lab.subnet} in namespace ${lab.hubNetns})`];
  lab.nodes.forEach((node, i) => {
    const state = answers ? `  ${answers[i] === "ok" ? "answers" : `DOWN: ${answers[i]}`}` : "";
    lines.push(
      `  ${node.name}  ${node.role.padEnd(7)}  ${node.address.padEnd(12)}  DOCKER_HOST=${node.dockerHost}${state}`,
    );
  });
  lines.push(`  run on it: docknet run overlay --lab ${lab.id}`);
  return `${lines.join("\n")}\n`;
}

/** docknet lab up: a lab kept until docknet lab down; the exit code. */
export async function labUpAction(flags: {
  hosts: number;
  managers: number;
  engineVersion?: string;
  json?: boolean;
}): Promise<number> {
  const invalid = validateLabSize(flags.hosts, flags.managers);
  if (invalid) throw new UsageError(invalid);
  const dockerd = flags.engineVersion
    ? (
        await engineOfVersion(flags.engineVersion, (line) =>
          process.stderr.write(`engine ${flags.engineVersion}: ${line}\n`),
        )
      ).dockerd
    : undefined;
  const missing = await privateEnginePrerequisites(dockerd);
  if (missing) throw new EngineUnavailable(missing);
  const abort = new AbortController();
  const interrupts = watchInterrupts(abort);
  const started = performance.now();
  const lab = await startMultiHostLab({
    hosts: flags.hosts,
    managers: flags.managers,
    held: true,
    ...(dockerd ? { dockerd } : {}),
    onProgress: (line) => process.stderr.write(`${line}\n`),
  });
  if (abort.signal.aborted) {
    await lab.stop();
    return interrupts.exitCode()!;
  }
  process.stderr.write(`lab ${lab.state.id} up in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  if (flags.json) process.stdout.write(labsJson([lab.state]));
  else process.stdout.write(labText(lab.state));
  return 0;
}

/** docknet lab status: every lab, and whether each node answers. */
export async function labStatusAction(flags: { json?: boolean }): Promise<void> {
  const labs = listLabs();
  const rows = await Promise.all(
    labs.map(async (lab) => ({
      ...lab,
      answers: await Promise.all(lab.nodes.map(async (n) => (await pingEngine(n.dockerHost, 2000)) ?? "ok")),
    })),
  );
  if (flags.json) {
    process.stdout.write(labsJson(rows));
    return;
  }
  for (const lab of rows) process.stdout.write(labText(lab, lab.answers));
  process.stderr.write(`${labs.length} lab(s)\n`);
}

/** docknet lab down: removes the labs named, or all. */
export async function labDownAction(ids: string[]): Promise<void> {
  const labs = listLabs();
  const unknown = ids.filter((id) => !labs.some((l) => l.id === id));
  if (unknown.length)
    throw new UsageError(`no lab ${unknown.join(", ")} (labs: ${labs.map((l) => l.id).join(", ") || "none"})`);
  const chosen = ids.length ? labs.filter((l) => ids.includes(l.id)) : labs;
  for (const lab of chosen) {
    await stopLab(lab);
    process.stderr.write(`lab ${lab.id} removed\n`);
  }
  if (chosen.length === 0) process.stderr.write("no lab is up\n");
}
