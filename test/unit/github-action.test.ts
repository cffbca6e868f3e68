import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, onTestFinished, test } from "vitest";
import { buildProgram } from "../../harness/cli.js";

const ROOT = join(import.meta.dirname, "..", "..");
const VALIDATOR = join(ROOT, "node_modules", ".bin", "action-validator");
const FILES = ["action.yml", ".github/examples/docker-networking-conformance.yml", ".github/workflows/ci.yml"];

/** The validator's verdict on a file: its exit code, and what it printed. */
function validate(path: string): { code: number; output: string } {
  try {
    return {
      code: 0,
      output: execFileSync(VALIDATOR, [path], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }),
    };
  } catch (error) {
    const e = error as { status: number; stdout: string; stderr: string };
    return { code: e.status, output: `${e.stdout}${e.stderr}` };
  }
}

/** A copy of a repository file with one change, under the same name (the validator tells actions from workflows by it). */
function broken(file: string, from: string | RegExp, to: string): string {
  const dir = mkdtempSync(join(tmpdir(), "docknet-action-"));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, file.split("/").at(-1)!);
  const text = readFileSync(join(ROOT, file), "utf8");
  const changed = text.replace(from, to);
  expect(changed).not.toBe(text);
  writeFileSync(path, changed);
  return path;
}

describe("the GitHub Action and the workflows", () => {
  test.each(FILES)("%s is valid for GitHub (action-validator)", (file) => {
    const { code, output } = validate(join(ROOT, file));
    expect(code, output).toBe(0);
  });

  test("the validator does refuse what GitHub would: a broken copy of each fails", () => {
    expect(validate(broken("action.yml", "using: composite", "using: compost")).code).not.toBe(0);
    expect(
      validate(broken(".github/examples/docker-networking-conformance.yml", "runs-on:", "runs_on:")).code,
    ).not.toBe(0);
    expect(validate(broken(".github/workflows/ci.yml", "runs-on:", "runs_on:")).code).not.toBe(0);
  });

  test("the example pins the action, may write checks, and has a timeout longer than its run timeout", () => {
    const example = readFileSync(join(ROOT, ".github/examples/docker-networking-conformance.yml"), "utf8");
    expect(example).toMatch(/uses: docknet\/docknet@v\d+\.\d+\.\d+/);
    expect(example).not.toMatch(/npx --yes docknet/);
    expect(example).toMatch(/checks: write/);
    const jobMinutes = Number(/timeout-minutes: (\d+)/.exec(example)![1]);
    const runMinutes = Number(/run-timeout: (\d+)m/.exec(example)![1]);
    expect(runMinutes).toBeLessThan(jobMinutes);
  });

  test("every input of the action is used, and every option it passes exists", () => {
    const action = readFileSync(join(ROOT, "action.yml"), "utf8");
    const inputs = [
      ...action
        .split("\ninputs:\n")[1]!
        .split("\noutputs:")[0]!
        .matchAll(/^ {2}([a-z-]+):$/gm),
    ].map((m) => m[1]!);
    expect(inputs.length).toBeGreaterThan(5);
    for (const input of inputs) expect(action, input).toContain(`inputs.${input}`);
    const program = buildProgram();
    const longOptions = (name: string) => program.commands.find((c) => c.name() === name)!.options.map((o) => o.long);
    const passed = (line: string) =>
      [...line.matchAll(/(--[a-z-]+)/g)].map((m) => m[1]!).filter((o) => o !== "--preserve-env");
    const runLines = action.split("\n").filter((l) => /args=\(run|args\+=\(--/.test(l));
    for (const option of runLines.flatMap(passed)) expect(longOptions("run"), option).toContain(option);
    const doctorLine = action.split("\n").find((l) => l.includes(" doctor --"))!;
    for (const option of passed(doctorLine)) expect(longOptions("doctor"), option).toContain(option);
  });
});
