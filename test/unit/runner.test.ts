import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, test } from "vitest";
import type { Capabilities } from "../../harness/capabilities.js";
import { needs } from "../../harness/capabilities.js";
import { ENGINE_FACTS } from "./engine-facts.js";
import type { Lab } from "../../harness/lab/lab.js";
import { runScenarios } from "../../harness/runner.js";
import { Probe } from "../../harness/lab/probe.js";
import { waitFor } from "../../harness/polling.js";
import type { ScenarioContext } from "../../harness/scenario.js";
import { scenario } from "./test-scenario.js";

const engine: Capabilities = {
  ...ENGINE_FACTS,
  kernel: "6.1",
  networkDrivers: ["bridge", "host", "null"],
  defaultBridge: false,
};

/** A lab that only records scopes opened and torn down: the runner's contract with it. */
function recordingLab() {
  const torn: string[] = [];
  const lab = {
    scope: (id: string) => ({
      scenarioId: id,
      sharedTopologyChanges: async () => [],
      tearDown: async () => void torn.push(id),
    }),
  };
  return { lab: lab as unknown as Lab, torn }; // the runner only calls scope(), sharedTopologyChanges() and tearDown()
}

const observed = (value: string) => ({ value, how: "docker exec x thing" });

describe("the runner", () => {
  test("verdicts: pass, fail with evidence, broken, timeout, skip naming the missing fact", async () => {
    const { lab, torn } = recordingLab();
    const results = await runScenarios({
      lab,
      capabilities: engine,
      concurrency: 2,
      timeoutMs: 200,
      abandonedBodyGraceMs: 100,
      scenarios: [
        scenario({
          id: "T-1",
          title: "passes",
          area: "t",
          doc: "d",
          run: async ({ check }) => void check("a", observed("open")).is("open"),
        }),
        scenario({
          id: "T-2",
          title: "fails",
          area: "t",
          doc: "d",
          run: async ({ check }) => void check("b", observed("timeout")).is("open"),
        }),
        scenario({
          id: "T-3",
          title: "breaks",
          area: "t",
          doc: "d",
          run: async () => {
            throw new Error("(HTTP code 500) boom");
          },
        }),
        scenario({ id: "T-4", title: "hangs", area: "t", doc: "d", run: () => sleep(5000) }),
        scenario({
          id: "T-5",
          title: "needs",
          area: "t",
          doc: "d",
          requires: [needs.defaultBridge],
          run: async () => {},
        }),
      ],
    });
    expect(results.map((r) => [r.id, r.status, r.reason])).toEqual([
      ["T-1", "passed", undefined],
      ["T-2", "failed", "b: expected open, observed timeout"],
      ["T-3", "error", "(HTTP code 500) boom"],
      ["T-4", "failed", "timed out after 0.2s"],
      ["T-5", "skipped", "engine has no default bridge network (daemon runs with --bridge=none)"],
    ]);
    expect(results[1]?.evidence).toEqual([
      { claim: "b", expected: "open", observed: "timeout", how: "docker exec x thing", ok: false },
    ]);
    // The scenario that timed out is torn down twice: at the timeout, and once its body settled or the grace ran out.
    expect(torn.sort()).toEqual(["T-1", "T-2", "T-3", "T-4", "T-4"]);
  });

  test("a teardown that fails leaves the verdict as it was and says what it could not remove", async () => {
    const lab = {
      scope: (id: string) => ({
        scenarioId: id,
        sharedTopologyChanges: async () => [],
        tearDown: async () => {
          if (id === "T-2") throw new Error("(HTTP code 409) network dn-x-net has active endpoints");
        },
      }),
    } as unknown as Lab; // the runner only calls scope(), sharedTopologyChanges() and tearDown()
    const results = await runScenarios({
      lab,
      capabilities: engine,
      concurrency: 1,
      timeoutMs: 1000,
      scenarios: ["T-1", "T-2"].map((id) => scenario({ id, title: id, area: "t", doc: "d", run: async () => {} })),
    });
    expect(results.map((r) => [r.id, r.status, r.teardown])).toEqual([
      ["T-1", "passed", undefined],
      ["T-2", "passed", "(HTTP code 409) network dn-x-net has active endpoints"],
    ]);
  });

  test("no more than --concurrency at once, and exclusive scenarios run alone, first", async () => {
    const { lab } = recordingLab();
    let running = 0;
    let most = 0;
    const log: string[] = [];
    const body = (id: string) => async (_: ScenarioContext) => {
      running++;
      most = Math.max(most, running);
      log.push(`${id}:${running}`);
      await sleep(20);
      running--;
    };
    await runScenarios({
      lab,
      capabilities: engine,
      concurrency: 3,
      timeoutMs: 1000,
      scenarios: [
        scenario({ id: "X", title: "alone", area: "t", doc: "d", exclusive: true, run: body("X") }),
        ...["A", "B", "C", "D", "E", "F"].map((id) => scenario({ id, title: id, area: "t", doc: "d", run: body(id) })),
      ],
    });
    expect(most).toBe(3);
    // Before the others: meanwhile the engines of daemon.json scenarios start beside it.
    expect(log[0]).toBe("X:1");
    expect(log.slice(1).every((entry) => !entry.startsWith("X"))).toBe(true);
  });

  test("with durations from an earlier run, the longest start first, and scenarios never measured before them", async () => {
    const { lab } = recordingLab();
    const started: string[] = [];
    const quick = (id: string) =>
      scenario({ id, title: id, area: "t", doc: "d", run: async () => void started.push(id) });
    const scenarios = ["SHORT", "LONG", "NEW", "MIDDLE"].map(quick);
    await runScenarios({
      lab,
      capabilities: engine,
      concurrency: 1,
      timeoutMs: 1000,
      scenarios,
      durationHints: new Map([
        ["SHORT", 100],
        ["LONG", 9000],
        ["MIDDLE", 2000],
      ]),
    });
    expect(started).toEqual(["NEW", "LONG", "MIDDLE", "SHORT"]);
    // Those that run alone keep their written order, before the others, whatever their durations.
    started.length = 0;
    const alone = (id: string) =>
      scenario({ id, title: id, area: "t", doc: "d", exclusive: true, run: async () => void started.push(id) });
    await runScenarios({
      lab,
      capabilities: engine,
      concurrency: 1,
      timeoutMs: 1000,
      scenarios: [alone("A-SHORT"), quick("SHORT"), alone("A-LONG"), quick("LONG")],
      durationHints: new Map([
        ["A-SHORT", 1],
        ["A-LONG", 9000],
        ["SHORT", 100],
        ["LONG", 9000],
      ]),
    });
    expect(started).toEqual(["A-SHORT", "A-LONG", "LONG", "SHORT"]);
    started.length = 0;
    await runScenarios({ lab, capabilities: engine, concurrency: 1, timeoutMs: 1000, scenarios });
    expect(started).toEqual(["SHORT", "LONG", "NEW", "MIDDLE"]);
  });

  test("--repeat runs each scenario that many times, in separate scopes", async () => {
    const { lab, torn } = recordingLab();
    const results = await runScenarios({
      lab,
      capabilities: engine,
      concurrency: 2,
      timeoutMs: 1000,
      repeat: 3,
      scenarios: [scenario({ id: "R-1", title: "r", area: "t", doc: "d", run: async () => {} })],
    });
    expect(results.map((r) => r.attempt)).toEqual([1, 2, 3]);
    expect(torn.sort()).toEqual(["R-1", "R-1-2", "R-1-3"]);
  });

  test("--repeat: no two attempts of one scenario at once; a second attempt does not wait for other scenarios' first", async () => {
    const { lab } = recordingLab();
    const log: string[] = [];
    const running = new Set<string>();
    const body = (id: string) => async () => {
      if (running.has(id)) log.push(`${id} twice at once`);
      running.add(id);
      log.push(`${id} start`);
      // A is slow: B's and C's second attempts need not wait for it.
      await new Promise((r) => setTimeout(r, id === "A" ? 60 : 5));
      running.delete(id);
      log.push(`${id} end`);
    };
    await runScenarios({
      lab,
      capabilities: engine,
      concurrency: 4,
      timeoutMs: 1000,
      repeat: 2,
      scenarios: ["A", "B", "C"].map((id) => scenario({ id, title: id, area: "t", doc: "d", run: body(id) })),
    });
    expect(log.filter((l) => l.endsWith("twice at once"))).toEqual([]);
    expect(log.filter((l) => l.endsWith("start"))).toHaveLength(6);
    expect(log.slice(0, 3)).toEqual(["A start", "B start", "C start"]);
    // Both of B's attempts (and C's) are done before A's first is.
    expect(log.indexOf("A end")).toBeGreaterThan(log.lastIndexOf("B end"));
    expect(log.indexOf("A end")).toBeGreaterThan(log.lastIndexOf("C end"));
  });

  test("an aborted run starts nothing more, and still gives every scenario a verdict", async () => {
    const { lab } = recordingLab();
    const abort = new AbortController();
    let started = 0;
    const results = await runScenarios({
      lab,
      capabilities: engine,
      concurrency: 1,
      timeoutMs: 1000,
      signal: abort.signal,
      scenarios: ["A", "B", "C"].map((id) =>
        scenario({ id, title: id, area: "t", doc: "d", run: async () => void (started++, abort.abort("SIGINT")) }),
      ),
    });
    expect(started).toBe(1);
    // A finished its body (the interrupt came from within it): its verdict stands.
    expect(results.map((r) => [r.id, r.status, r.reason])).toEqual([
      ["A", "passed", undefined],
      ["B", "skipped", "interrupted by SIGINT before it started"],
      ["C", "skipped", "interrupted by SIGINT before it started"],
    ]);
  });

  test("an interrupt reaches the actions under way: a probe's command and a wait end at once, and teardown runs once, after the body stopped", async () => {
    const { lab, torn } = recordingLab();
    const abort = new AbortController();
    const log: string[] = [];
    const finishedAt: Record<string, number> = {};
    // A command that never returns (a probe's exec to an engine that hangs).
    const hanging = new Probe({ id: "c0ffee", exec: () => new Promise(() => undefined) }, "a");
    const body = (id: string, step: () => Promise<unknown>) => async () => {
      try {
        await step();
        log.push(`${id} went on`);
      } finally {
        log.push(`${id} stopped`);
      }
    };
    const recordTeardown = lab.scope.bind(lab);
    (lab as { scope: unknown }).scope = (id: string) => {
      const scope = recordTeardown(id, id);
      return { ...scope, tearDown: async () => (log.push(`${id} torn`), scope.tearDown()) };
    };
    setTimeout(() => abort.abort("SIGTERM"), 50);
    const begun = performance.now();
    const results = await runScenarios({
      lab,
      capabilities: engine,
      concurrency: 4,
      timeoutMs: 60_000,
      signal: abort.signal,
      abandonedBodyGraceMs: 500,
      onEvent: (e) => void (e.type === "finished" && (finishedAt[e.result.id] = performance.now() - begun)),
      scenarios: [
        scenario({ id: "A", title: "A", area: "t", doc: "d", run: body("A", () => hanging.ping("b")) }),
        scenario({
          id: "B",
          title: "B",
          area: "t",
          doc: "d",
          run: body("B", () => waitFor(async () => false, 60_000)),
        }),
        // A step that ignores cancellation (an engine call under way) is waited for, then torn down once.
        scenario({ id: "C", title: "C", area: "t", doc: "d", run: body("C", () => sleep(300)) }),
        // One that never ends: torn down when the bound passes, and again when it passes once more.
        scenario({ id: "D", title: "D", area: "t", doc: "d", run: () => new Promise<void>(() => undefined) }),
      ],
    });
    expect(results.map((r) => r.status)).toEqual(["skipped", "skipped", "skipped", "skipped"]);
    expect(results[0]!.reason).toMatch(/^interrupted by SIGTERM after 0\.\ds: not finished$/);
    expect(finishedAt.A).toBeLessThan(400);
    expect(finishedAt.B).toBeLessThan(400);
    expect(log).not.toContain("A went on");
    expect(log).not.toContain("B went on");
    for (const id of ["A", "B", "C"]) {
      expect(
        log.filter((l) => l === `${id} torn`),
        id,
      ).toHaveLength(1);
      expect(log.indexOf(`${id} stopped`), id).toBeLessThan(log.indexOf(`${id} torn`));
    }
    expect(log.indexOf("C went on")).toBeLessThan(log.indexOf("C torn"));
    expect(torn.filter((id) => id === "D")).toHaveLength(2);
    expect(performance.now() - begun).toBeLessThan(3000);
  });

  test("a body that goes on after its cancellation starts no more commands, so none fails later unheard", async () => {
    const { lab } = recordingLab();
    const abort = new AbortController();
    const started: string[] = [];
    // An exec to a probe teardown removes: it fails a moment later ("no such exec").
    const doomed = new Probe(
      {
        id: "c0ffee",
        exec: async (argv: string[]) => {
          started.push(argv.join(" "));
          await sleep(20);
          throw new Error("(HTTP code 404) no such exec");
        },
      },
      "a",
    );
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => void unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      setTimeout(() => abort.abort("SIGTERM"), 50);
      await runScenarios({
        lab,
        capabilities: engine,
        concurrency: 1,
        timeoutMs: 60_000,
        signal: abort.signal,
        abandonedBodyGraceMs: 500,
        scenarios: [
          scenario({
            id: "A",
            title: "A",
            area: "t",
            doc: "d",
            run: async () => {
              // A body that swallows its first error (as a control step may) and tries again.
              await waitFor(async () => false, 60_000).catch(() => undefined);
              await doomed.ping("b").catch(() => undefined);
            },
          }),
        ],
      });
      await sleep(100);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
    expect(started).toEqual([]);
    expect(unhandled).toEqual([]);
  });

  test("a timeout cancels the same way: the wait under way ends, and the verdict is the timeout", async () => {
    const { lab } = recordingLab();
    let went = false;
    const [result] = await runScenarios({
      lab,
      capabilities: engine,
      concurrency: 1,
      timeoutMs: 100,
      abandonedBodyGraceMs: 5000,
      scenarios: [
        scenario({
          id: "T",
          title: "T",
          area: "t",
          doc: "d",
          run: async () => void (await waitFor(async () => false, 60_000), (went = true)),
        }),
      ],
    });
    expect([result!.status, result!.reason]).toEqual(["failed", "timed out after 0.1s"]);
    expect(result!.durationMs).toBeLessThan(1000);
    expect(went).toBe(false);
  });
});

describe("failure bundles", () => {
  test("the engine's log lines from a scenario's start on, continuation lines with their line", async () => {
    const { logSince } = await import("../../harness/lab/failure-bundle.js");
    const log = [
      'time="2026-11-30T06:00:00.000Z" level=info msg="before"',
      'time="2026-11-30T06:00:05.000Z" level=info msg="during"',
      "  a continuation of during",
      'time="2026-11-30T06:00:09.500Z" level=warning msg="later"',
      "",
    ].join("\n");
    expect(logSince(log, new Date("2026-11-30T06:00:05.500Z"))).toBe(
      'time="2026-11-30T06:00:05.000Z" level=info msg="during"\n  a continuation of during\ntime="2026-11-30T06:00:09.500Z" level=warning msg="later"\n',
    );
  });
});
