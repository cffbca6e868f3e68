import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

/**
 * docknet's JSON outputs against the schemas in schemas/: every document says
 * its `kind`, and the schema of that kind must accept it. Used by the unit
 * tests on report fixtures and by every integration test's CLI run.
 */
const SCHEMAS = join(import.meta.dirname, "..", "schemas");
const KINDS = {
  "docknet.run": "run.schema.json",
  "docknet.doctor": "doctor.schema.json",
  "docknet.matrix": "matrix.schema.json",
  "docknet.scenarios": "scenarios.schema.json",
  "docknet.engines": "engines.schema.json",
  "docknet.engine": "engine.schema.json",
  "docknet.labs": "labs.schema.json",
  "docknet.conformance": "conformance.schema.json",
} as const;

const ajv = new Ajv2020({ allErrors: true });
// ajv-formats is CommonJS whose default export is the plugin function.
(addFormats as unknown as (a: Ajv2020) => void)(ajv);
for (const file of Object.values(KINDS))
  ajv.addSchema(JSON.parse(readFileSync(join(SCHEMAS, file), "utf8")) as object, file);

/** The schema's complaints about a document ([] when it is valid), by the document's own kind. */
export function schemaErrors(document: unknown): string[] {
  const kind = (document as { kind?: string } | null)?.kind;
  const file = KINDS[kind as keyof typeof KINDS];
  if (!file) return [`no known kind: ${JSON.stringify(kind)}`];
  const validate = ajv.getSchema(file)!;
  if (validate(document)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message ?? ""}`);
}
