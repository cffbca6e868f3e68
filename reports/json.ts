import type { DoctorReport } from "../harness/doctor/doctor.js";
import type { MatrixReport } from "../harness/matrix.js";
import type { RunReport } from "../harness/results.js";

export const JSON_SCHEMA_VERSION = 1;

/** The run as one JSON document: the same results the other reporters read. */
export function jsonReport(report: RunReport): string {
  return `${JSON.stringify({ schemaVersion: JSON_SCHEMA_VERSION, ...report }, null, 2)}\n`;
}

/** The doctor's findings as one JSON document. */
export function doctorJsonReport(report: DoctorReport): string {
  return `${JSON.stringify({ schemaVersion: JSON_SCHEMA_VERSION, ...report }, null, 2)}\n`;
}

/** An engine matrix: the rows (scenario x engine) and each engine's full run. */
export function matrixJsonReport(matrix: MatrixReport): string {
  return `${JSON.stringify({ schemaVersion: JSON_SCHEMA_VERSION, engines: matrix.engines.map((e) => ({ spec: e.spec, version: e.report?.engine.engineVersion, summary: e.report?.summary, problem: e.problem })), rows: matrix.rows, runs: matrix.engines.flatMap((e) => (e.report ? [e.report] : [])) }, null, 2)}\n`;
}
