import type { DoctorReport } from "../harness/doctor/doctor.js";
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
