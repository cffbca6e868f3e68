import { readFileSync } from "node:fs";
import { XMLParser } from "fast-xml-parser";
import { UsageError } from "../exit-codes.js";

/**
 * The scenarios an earlier run did not pass (failed or broke), from its report:
 * docknet's JSON (a run or a matrix) or any JUnit XML whose testcases are named
 * "<ID> <title>", as docknet writes them. A report that cannot be read is a usage error.
 */
export function failedScenarioIds(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new UsageError(
      `--rerun-failed ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  const ids = text.trimStart().startsWith("<") ? fromJunit(path, text) : fromJson(path, text);
  return [...new Set(ids)];
}

interface JsonResult {
  readonly id?: unknown;
  readonly status?: unknown;
}

function fromJson(path: string, text: string): string[] {
  let parsed: { results?: JsonResult[]; runs?: Array<{ results?: JsonResult[] }> };
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch (error) {
    throw new UsageError(`--rerun-failed ${path} is neither docknet's JSON nor JUnit XML: ${(error as Error).message}`);
  }
  const results = [...(parsed.results ?? []), ...(parsed.runs ?? []).flatMap((run) => run.results ?? [])];
  if (!parsed.results && !parsed.runs)
    throw new UsageError(
      `--rerun-failed ${path}: a JSON report of docknet run has "results" (or, for a matrix, "runs")`,
    );
  return results
    .filter((r) => (r.status === "failed" || r.status === "error") && typeof r.id === "string")
    .map((r) => r.id as string);
}

type Case = { name?: string; failure?: unknown; error?: unknown };
type Suite = { testcase?: Case | Case[] };

function fromJunit(path: string, text: string): string[] {
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: "",
    isArray: (name) => name === "testsuite" || name === "testcase",
  });
  let parsed: { testsuites?: { testsuite?: Suite[] }; testsuite?: Suite[] };
  try {
    parsed = parser.parse(text, true) as typeof parsed;
  } catch (error) {
    throw new UsageError(`--rerun-failed ${path} is not well-formed XML: ${(error as Error).message}`);
  }
  const suites = parsed.testsuites?.testsuite ?? parsed.testsuite;
  if (!suites) throw new UsageError(`--rerun-failed ${path}: no <testsuite> in it (a JUnit report has them)`);
  const cases = suites.flatMap((s) => (Array.isArray(s.testcase) ? s.testcase : s.testcase ? [s.testcase] : []));
  return cases
    .filter((c) => c.failure !== undefined || c.error !== undefined)
    .map((c) => (c.name ?? "").split(" ")[0]!)
    .filter(Boolean);
}
