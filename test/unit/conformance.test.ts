import { describe, expect, test } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import type { RunReport, ScenarioResult } from "../../harness/results.js";
import { summarize } from "../../harness/results.js";
import { conformanceReport, conformanceText, conformanceVerdict } from "../../reports/conformance.js";
import { runMarkdown } from "../../reports/markdown.js";
import { schemaErrors } from "../schemas.js";
import { ENGINE_FACTS } from "./engine-facts.js";

const result = (id: string, area: string, status: ScenarioResult["status"], more: Partial<ScenarioResult> = {}) =>
  ({
    id,
    title: `title of ${id}`,
    area,
    doc: `doc of ${id}`,
    tags: [],
    status,
    durationMs: 1,
    attempt: 1,
    evidence: [],
    ...more,
  }) as ScenarioResult;

const runOf = (results: ScenarioResult[], more: Partial<RunReport> = {}): RunReport => ({
  tool: { name: "docknet", version: "0.1.0" },
  runId: "abc123",
  startedAt: "2026-12-01T07:00:00.000Z",
  engine: { ...ENGINE_FACTS, description: "private dockerd 20.10.24" },
  strict: false,
  results,
  summary: summarize(results, 1000),
  ...more,
});

const kernelSkip = { reason: "kernel has no CONFIG_IPVLAN" };
const podmanDiffers = {
  documentedDifferences: [{ family: "podman", what: "bridges are not isolated", source: "podman-network-create(1)" }],
};

describe("the conformance report per profile", () => {
  test("a run where all that ran passed is conformant; skips are the unsupported features, named", () => {
    const report = conformanceReport(
      runOf([result("UB-01", "user-bridge", "passed"), result("IPV-01", "ipvlan", "skipped", kernelSkip)]),
    );
    expect(report.verdict).toBe("conformant");
    expect(report.implementation).toMatchObject({ family: "docker", mode: "rootful", firewall: "iptables-nft" });
    expect(report.areas).toEqual([
      {
        name: "user-bridge",
        result: "success",
        statistics: { passed: 1, failed: 0, skipped: 0 },
        failedScenarios: [],
        skippedScenarios: [],
      },
      {
        name: "ipvlan",
        result: "partial",
        statistics: { passed: 0, failed: 0, skipped: 1 },
        failedScenarios: [],
        skippedScenarios: ["IPV-01"],
      },
    ]);
    expect(report.supportedFeatures).toEqual(["user-bridge"]);
    expect(report.unsupportedFeatures).toEqual([{ reason: "kernel has no CONFIG_IPVLAN", scenarios: ["IPV-01"] }]);
    expect(schemaErrors(report)).toEqual([]);
  });

  test("documented differences make it conformant with them; a failure, --strict with a skip, or a lost engine do not", () => {
    const differs = runOf([
      result("ISO-01", "isolation", "passed", podmanDiffers),
      result("UB-01", "user-bridge", "passed"),
    ]);
    expect(conformanceVerdict(differs)).toEqual({
      verdict: "conformant with documented differences",
      because: "every scenario that ran passed; ISO-01 expected what the engine's own documentation says",
    });
    expect(conformanceReport(differs).documentedDifferences).toEqual([
      { scenario: "ISO-01", family: "podman", what: "bridges are not isolated", source: "podman-network-create(1)" },
    ]);
    const failed = runOf([
      result("ISO-01", "isolation", "passed", podmanDiffers),
      result("DNS-02", "dns", "failed", { reason: "unresolved" }),
    ]);
    expect(conformanceVerdict(failed)).toEqual({
      verdict: "not conformant",
      because: "1 scenario(s) failed or broke: DNS-02",
    });
    expect(conformanceReport(failed).failures).toEqual([
      { scenario: "DNS-02", title: "title of DNS-02", reason: "unresolved", doc: "doc of DNS-02" },
    ]);
    expect(conformanceReport(failed).areas.find((a) => a.name === "dns")?.result).toBe("failure");
    const strict = runOf([result("IPV-01", "ipvlan", "skipped", kernelSkip)], { strict: true });
    expect(conformanceVerdict(strict).verdict).toBe("not conformant");
    const lost = runOf([result("UB-01", "user-bridge", "passed")], { engineLost: "the engine stopped answering" });
    expect(conformanceVerdict(lost)).toEqual({
      verdict: "not conformant",
      because: "the run did not finish: the engine stopped answering",
    });
  });

  test("with --repeat, a scenario counts once, by its worst attempt", () => {
    const report = conformanceReport(
      runOf([
        result("UB-01", "user-bridge", "passed"),
        result("UB-01", "user-bridge", "failed", { attempt: 2, reason: "r" }),
      ]),
    );
    expect(report.statistics).toEqual({ passed: 0, failed: 1, skipped: 0, errors: 0 });
    expect(report.verdict).toBe("not conformant");
  });

  test("YAML, one document per profile; JSON when asked; and the Markdown summary says the verdict", () => {
    const docker = runOf([result("UB-01", "user-bridge", "passed")]);
    const podman = runOf([result("ISO-01", "isolation", "passed", podmanDiffers)], {
      engine: {
        ...ENGINE_FACTS,
        description: "private Podman",
        profile: { ...ENGINE_FACTS.profile, family: "podman" },
      },
    });
    const documents = parseAllDocuments(conformanceText([docker, podman], "yaml")).map((d) => d.toJSON() as object);
    expect(documents.map((d) => (d as { verdict: string }).verdict)).toEqual([
      "conformant",
      "conformant with documented differences",
    ]);
    for (const d of documents) expect(schemaErrors(d)).toEqual([]);
    expect(parse(conformanceText([docker], "yaml"))).toEqual(JSON.parse(conformanceText([docker], "json")));
    expect(runMarkdown(podman)).toContain("**conformant with documented differences**");
    expect(runMarkdown(podman)).toContain("- ISO-01: podman: bridges are not isolated (podman-network-create(1))");
  });
});
