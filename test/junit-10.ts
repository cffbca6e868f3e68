import { XMLParser, XMLValidator } from "fast-xml-parser";

/**
 * The rules of Jenkins xunit's junit-10.xsd (jenkinsci/xunit-plugin,
 * src/main/resources/org/jenkinsci/plugins/xunit/types/model/xsd/junit-10.xsd),
 * the strictest JUnit schema in wide use, restated as data: for each element,
 * the attributes it may carry (required ones marked) and the children it may
 * hold. Used by the unit tests on report fixtures and by every integration
 * test's CLI run that writes --junit.
 */
interface ElementRule {
  readonly attributes: readonly string[];
  readonly required?: readonly string[];
  readonly children: readonly string[];
  /** Text content allowed (mixed or simple content). */
  readonly text?: boolean;
}

const OUTCOME: ElementRule = { attributes: ["type", "message"], children: [], text: true };
const RERUN: ElementRule = {
  attributes: ["type", "message"],
  required: ["type"],
  children: ["stackTrace", "system-out", "system-err"],
  text: true,
};
const TEXT_ONLY: ElementRule = { attributes: [], children: [], text: true };

const RULES: Record<string, ElementRule> = {
  testsuites: { attributes: ["name", "time", "tests", "failures", "errors"], children: ["testsuite"] },
  testsuite: {
    attributes: [
      "name",
      "tests",
      "failures",
      "errors",
      "group",
      "time",
      "skipped",
      "timestamp",
      "hostname",
      "id",
      "package",
      "file",
      "log",
      "url",
    ],
    required: ["name", "tests", "failures", "errors"],
    children: ["testsuite", "properties", "testcase", "system-out", "system-err"],
  },
  properties: { attributes: [], children: ["property"] },
  property: { attributes: ["name", "value"], required: ["name", "value"], children: [] },
  testcase: {
    attributes: ["name", "time", "classname", "group"],
    required: ["name"],
    children: [
      "skipped",
      "error",
      "failure",
      "rerunFailure",
      "rerunError",
      "flakyFailure",
      "flakyError",
      "system-out",
      "system-err",
    ],
  },
  failure: OUTCOME,
  error: OUTCOME,
  skipped: OUTCOME,
  rerunFailure: RERUN,
  rerunError: RERUN,
  flakyFailure: RERUN,
  flakyError: RERUN,
  stackTrace: TEXT_ONLY,
  "system-out": TEXT_ONLY,
  "system-err": TEXT_ONLY,
};

/** The schema's SUREFIRE_TIME: digits with optional thousands commas and a fraction. */
const SUREFIRE_TIME = /^(([0-9]{0,3},)*[0-9]{3}|[0-9]{0,3})*(\.[0-9]*)?$/;

type Node = { [name: string]: Node[] | string | Record<string, string> | undefined; ":@"?: Record<string, string> };

/** What junit-10.xsd would refuse in this document ([] when it accepts it). */
export function junit10Errors(xml: string): string[] {
  const wellFormed = XMLValidator.validate(xml);
  if (wellFormed !== true) return [`not well-formed: ${wellFormed.err.msg} (line ${wellFormed.err.line})`];
  const parser = new XMLParser({
    preserveOrder: true,
    ignoreAttributes: false,
    attributeNamePrefix: "",
    ignoreDeclaration: true,
    parseTagValue: false,
    parseAttributeValue: false,
  });
  const top = (parser.parse(xml) as Node[]).filter((n) => !("#text" in n));
  const errors: string[] = [];
  if (top.length !== 1 || !["testsuites", "testsuite"].includes(elementName(top[0]!)))
    errors.push(`the root must be one <testsuites> or <testsuite>, not ${top.map(elementName).join(", ")}`);
  for (const node of top) check(node, elementName(node), errors);
  return errors;
}

function elementName(node: Node): string {
  return Object.keys(node).find((k) => k !== ":@") ?? "?";
}

function check(node: Node, path: string, errors: string[]): void {
  const name = elementName(node);
  const rule = RULES[name];
  if (!rule) {
    errors.push(`${path}: <${name}> is not in the schema`);
    return;
  }
  const attributes = node[":@"] ?? {};
  for (const attribute of Object.keys(attributes))
    if (!rule.attributes.includes(attribute)) errors.push(`${path}: <${name}> may not carry ${attribute}="…"`);
  for (const attribute of rule.required ?? [])
    if (!(attribute in attributes)) errors.push(`${path}: <${name}> needs ${attribute}="…"`);
  if ("time" in attributes && (name === "testsuite" || name === "testsuites") && !SUREFIRE_TIME.test(attributes.time!))
    errors.push(`${path}: time="${attributes.time}" is not a SUREFIRE_TIME`);
  for (const child of (node[name] as Node[]) ?? []) {
    if ("#text" in child) {
      if (!rule.text && String(child["#text"]).trim()) errors.push(`${path}: <${name}> may not hold text`);
      continue;
    }
    const childName = elementName(child);
    if (!rule.children.includes(childName)) errors.push(`${path}: <${childName}> is not allowed inside <${name}>`);
    else check(child, `${path}/${childName}`, errors);
  }
}
