import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { buildMatrix } from "../../harness/matrix.js";
import { summarize, type RunReport, type ScenarioResult } from "../../harness/results.js";
import { matrixHtml, runHtml } from "../../reports/html.js";
import { ENGINE_FACTS } from "../unit/engine-facts.js";

/**
 * The HTML report as a person sees it: rendered by Debian's Chromium, read from
 * the page's visible text (innerText, which leaves out what is not shown). The
 * page must need nothing from any network.
 */
const base = { doc: "Bridge network driver", tags: [], attempt: 1 };
const results: ScenarioResult[] = [
  {
    ...base,
    id: "UB-01",
    title: "every port open",
    area: "user-bridge",
    status: "passed",
    durationMs: 812,
    evidence: [
      { claim: "web -> db:5432", expected: "open", observed: "open", how: "docker exec web nc -w 3 db 5432", ok: true },
    ],
  },
  {
    ...base,
    id: "ISO-01",
    title: "bridges are isolated",
    area: "isolation",
    status: "failed",
    durationMs: 2100,
    reason: "ping: expected no reply, observed reached",
    evidence: [
      {
        claim: "control: 10.213.0.2:80 from network B",
        expected: "HTTP 404",
        observed: "HTTP 404",
        how: "docker exec b nc 10.213.0.2 80",
        ok: true,
      },
      {
        claim: "ping from A to <b>B</b>",
        expected: "anything but reached",
        observed: "reached",
        how: "docker exec a ping -c 1 -W 2 10.213.0.2",
        ok: false,
      },
    ],
  },
  {
    ...base,
    id: "OV-05",
    title: "routing mesh",
    area: "overlay",
    status: "skipped",
    durationMs: 0,
    reason: "kernel has no CONFIG_IP_VS",
    evidence: [],
  },
  {
    ...base,
    id: "OV-15",
    title: "service VIP",
    area: "overlay",
    status: "skipped",
    durationMs: 0,
    reason: "kernel has no CONFIG_IP_VS",
    evidence: [],
  },
];
const report: RunReport = {
  tool: { name: "docknet", version: "0.1.0" },
  runId: "abc123",
  startedAt: "2026-11-28T07:00:00.000Z",
  engine: {
    ...ENGINE_FACTS,
    description: "private dockerd 28.5.2 in network namespace docknet-x",
    engineVersion: "28.5.2",
    networkDrivers: ["bridge", "host", "null"],
  },
  strict: false,
  results,
  summary: summarize(results, 38_200),
  vantage: "as root on this machine",
  explanations: {
    "ISO-01": [
      {
        check: "D-HOST-02",
        severity: "warn",
        title: "br_netfilter",
        seen: ["net.bridge.bridge-nf-call-iptables = 0"],
        fix: "modprobe br_netfilter",
      },
    ],
  },
};

describe("the HTML report, as Chromium shows it", () => {
  let browser: Browser;
  let dir: string;
  const requests: string[] = [];

  async function open(html: string): Promise<Page> {
    const file = join(dir, `${Math.random().toString(16).slice(2)}.html`);
    writeFileSync(file, html);
    const page = await browser.newPage();
    page.on("request", (r) => {
      if (!r.url().startsWith("file://")) requests.push(r.url());
    });
    page.on("dialog", (d) => void d.dismiss().then(() => requests.push(`dialog: ${d.message()}`)));
    await page.goto(`file://${file}`);
    return page;
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "docknet-html-"));
    browser = await chromium.launch({
      executablePath: "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    });
  });

  afterAll(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("a run: the counts, a failure's evidence and its likely cause, skips grouped, the engine", async () => {
    const page = await open(runHtml(report));
    const text = await page.locator("body").innerText();
    expect(await page.title()).toBe("docknet: 1/4 passed, 1 failed, 2 skipped in 38.2s");
    expect(await page.locator(".counts").innerText()).toMatch(/1\s+passed\s+1\s+failed\s+0\s+broke\s+2\s+skipped/);
    const failure = page.locator("section.failure#ISO-01");
    expect(await failure.locator("h3").innerText()).toBe("ISO-01 bridges are isolated");
    // The failing check's row: claim (its markup shown as text), expected, observed, and the command.
    expect((await failure.locator("tr.bad").innerText()).split("\t").map((c) => c.trim())).toEqual([
      "FAIL",
      "ping from A to <b>B</b>",
      "anything but reached",
      "reached",
      "docker exec a ping -c 1 -W 2 10.213.0.2",
    ]);
    expect(await failure.locator(".cause").innerText()).toContain(
      "Likely cause (docknet doctor D-HOST-02, warn): net.bridge.bridge-nf-call-iptables = 0",
    );
    expect(text).toMatch(/OV-05, OV-15\s+kernel has no CONFIG_IP_VS/);
    expect(text).toMatch(/commands on the engine's host\s+as root on this machine/);
    expect(text).toMatch(/UB-01\s+every port open\s+passed/);
    await page.close();
  });

  test("a matrix: the scenario × engine table, what differs first", async () => {
    const second: RunReport = {
      ...report,
      engine: { ...report.engine, engineVersion: "20.10.24" },
      results: results.map((r) => (r.id === "ISO-01" ? { ...r, status: "passed" as const, evidence: [] } : r)),
    };
    const page = await open(
      matrixHtml(
        buildMatrix([
          { spec: "20.10", report: second },
          { spec: "28", report },
        ]),
      ),
    );
    const rows = (await page.locator("#matrix tbody tr").allInnerTexts()).map((row) =>
      row.split("\t").map((c) => c.trim()),
    );
    expect(rows[0]).toEqual(["ISO-01", "bridges are isolated", "passed", "FAILED"]);
    expect(rows.slice(1).map((r) => r[0])).toEqual(["UB-01", "OV-05", "OV-15"]);
    expect(await page.locator("#matrix thead").innerText()).toMatch(/20\.10\.24\s+28\.5\.2/);
    await page.close();
    // An engine that did not run is named, and its column is empty.
    const withMissing = await open(
      matrixHtml(
        buildMatrix([
          { spec: "28", report },
          { spec: "29", problem: "would not start" },
        ]),
      ),
    );
    expect(await withMissing.locator("body").innerText()).toContain("29: would not start");
    expect(
      (await withMissing.locator("#matrix tbody tr").first().innerText())
        .split("\t")
        .map((c) => c.trim())
        .at(-1),
    ).toBe("–");
    await withMissing.close();
  });

  test("the pages fetch nothing and run nothing", () => {
    expect(requests).toEqual([]);
  });
});
