import type { DoctorReport } from "../harness/doctor/doctor.js";
import type { MatrixReport } from "../harness/matrix.js";
import type { RunReport } from "../harness/results.js";
import type { Capabilities } from "../harness/capabilities.js";
import type { EngineBinaries } from "../harness/engine/engine-binaries.js";
import type { MultiHostLabState } from "../harness/engine/multi-host-lab.js";

/**
 * Every JSON document docknet writes says what it is (`kind`) and which
 * version of its schema it follows (`schemaVersion`); the schemas are in
 * schemas/, and the tests validate every output against them.
 */
export const JSON_SCHEMA_VERSION = 1;

const runDocument = (report: RunReport) => ({ ...report, schemaVersion: JSON_SCHEMA_VERSION, kind: "docknet.run" });

/** The run as one JSON document (schemas/run.schema.json): the same results the other reporters read. */
export function jsonReport(report: RunReport): string {
  return `${JSON.stringify(runDocument(report), null, 2)}\n`;
}

/** The doctor's findings as one JSON document (schemas/doctor.schema.json). */
export function doctorJsonReport(report: DoctorReport): string {
  return `${JSON.stringify({ ...report, schemaVersion: JSON_SCHEMA_VERSION, kind: "docknet.doctor" }, null, 2)}\n`;
}

/** An engine matrix (schemas/matrix.schema.json): the rows (scenario x engine) and each engine's full run. */
export function matrixJsonReport(matrix: MatrixReport): string {
  return `${JSON.stringify({ schemaVersion: JSON_SCHEMA_VERSION, kind: "docknet.matrix", engines: matrix.engines.map((e) => ({ spec: e.spec, version: e.report?.engine.engineVersion, summary: e.report?.summary, problem: e.problem })), rows: matrix.rows, runs: matrix.engines.flatMap((e) => (e.report ? [runDocument(e.report)] : [])) }, null, 2)}\n`;
}

/** A document of one kind: what `kind` says it is, and the schema version it follows. */
const document = (kind: string, body: object): string =>
  `${JSON.stringify({ schemaVersion: JSON_SCHEMA_VERSION, kind: `docknet.${kind}`, ...body }, null, 2)}\n`;

/** `docknet list --json` (schemas/scenarios.schema.json). */
export function scenariosJson(
  scenarios: ReadonlyArray<{
    id: string;
    title: string;
    area: string;
    doc: string;
    tags: readonly string[];
    requires: readonly string[];
    exclusive: boolean;
  }>,
): string {
  return document("scenarios", { scenarios });
}

/** `docknet engine list --json` (schemas/engines.schema.json). */
export function enginesJson(cacheDir: string, engines: readonly EngineBinaries[]): string {
  return document("engines", { cacheDir, engines });
}

/** `docknet engine info --json` (schemas/engine.schema.json): the facts a run's report carries. */
export function engineJson(description: string, facts: Capabilities): string {
  return document("engine", { description, ...facts });
}

/** `docknet lab up --json` and `lab status --json` (schemas/labs.schema.json); status adds each node's answer. */
export function labsJson(labs: ReadonlyArray<MultiHostLabState & { answers?: readonly string[] }>): string {
  return document("labs", {
    labs: labs.map(({ answers, ...lab }) => ({
      ...lab,
      nodes: lab.nodes.map((node, i) => (answers ? { ...node, answers: answers[i] } : node)),
    })),
  });
}
