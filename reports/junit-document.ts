import { XMLBuilder } from "fast-xml-parser";

/**
 * A JUnit XML document in the shape the strictest consumer accepts: Jenkins
 * xunit's junit-10.xsd (jenkinsci/xunit-plugin). Properties only on a
 * testsuite, never on a testcase; <testsuites> carries name, time, tests,
 * failures and errors only (no "skipped"); a testcase holds at most one
 * outcome (failure, error or skipped, each with a message) and system-out.
 * Looser readers (GitLab, GitHub's JUnit actions, junit2json) read it too.
 */
export interface JunitSuite {
  readonly name: string;
  readonly timestamp: string;
  readonly timeMs: number;
  readonly properties: ReadonlyArray<readonly [name: string, value: string]>;
  readonly cases: readonly JunitCase[];
}

export interface JunitCase {
  readonly name: string;
  readonly classname: string;
  readonly timeMs: number;
  readonly outcome?: JunitOutcome;
  /** What a passed case saw, or a skip's or finding's detail: shown by CI views beside the case. */
  readonly systemOut?: string;
}

export interface JunitOutcome {
  readonly kind: "failure" | "error" | "skipped";
  /** One line: the message attribute CI views list. */
  readonly message: string;
  readonly type?: string;
  /** The body: evidence, how to reproduce. */
  readonly text?: string;
}

/** Seconds with millisecond precision, as JUnit consumers expect. */
export function seconds(ms: number): number {
  return Math.round(ms) / 1000;
}

// XML 1.0 forbids most control characters even escaped; probe output can carry them.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;
const xmlText = (text: string) => text.replace(NOT_XML, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
const oneLine = (text: string) => xmlText(text.replace(/\s*\n\s*/g, " ").trim());

const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: "@",
  textNodeName: "#text",
  format: true,
  indentBy: "  ",
  suppressEmptyNode: true,
});

export function junitDocument(name: string, suites: readonly JunitSuite[]): string {
  const count = (kind: JunitOutcome["kind"]) =>
    suites.reduce((n, s) => n + s.cases.filter((c) => c.outcome?.kind === kind).length, 0);
  const root = {
    "@name": name,
    "@tests": suites.reduce((n, s) => n + s.cases.length, 0),
    "@failures": count("failure"),
    "@errors": count("error"),
    "@time": seconds(suites.reduce((ms, s) => ms + s.timeMs, 0)),
    testsuite: suites.map(suiteElement),
  };
  return `<?xml version="1.0" encoding="UTF-8"?>\n${builder.build({ testsuites: root }) as string}`;
}

function suiteElement(suite: JunitSuite): Record<string, unknown> {
  const count = (kind: JunitOutcome["kind"]) => suite.cases.filter((c) => c.outcome?.kind === kind).length;
  return {
    "@name": xmlText(suite.name),
    "@tests": suite.cases.length,
    "@failures": count("failure"),
    "@errors": count("error"),
    "@skipped": count("skipped"),
    "@timestamp": suite.timestamp,
    "@time": seconds(suite.timeMs),
    ...(suite.properties.length
      ? { properties: { property: suite.properties.map(([n, v]) => ({ "@name": xmlText(n), "@value": oneLine(v) })) } }
      : {}),
    testcase: suite.cases.map(caseElement),
  };
}

function caseElement(testCase: JunitCase): Record<string, unknown> {
  const element: Record<string, unknown> = {
    "@name": oneLine(testCase.name),
    "@classname": testCase.classname,
    "@time": seconds(testCase.timeMs),
  };
  const outcome = testCase.outcome;
  if (outcome) {
    element[outcome.kind] = {
      "@message": oneLine(outcome.message),
      ...(outcome.type ? { "@type": outcome.type } : {}),
      ...(outcome.text ? { "#text": xmlText(outcome.text) } : {}),
    };
  }
  if (testCase.systemOut) element["system-out"] = xmlText(testCase.systemOut);
  return element;
}
