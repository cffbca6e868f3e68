import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, test } from "vitest";
import { tempDir } from "../temp-dir.js";

const LOCK_MODULE = pathToFileURL(
  join(import.meta.dirname, "..", "..", "dist", "harness", "engine", "fetch-lock.js"),
).href;

/** One process that takes the fetch lock, notes when it holds it, and lets go after a moment. */
function contender(cacheDir: string, journal: string): Promise<{ code: number | null; stderr: string }> {
  const script = `
    import { appendFileSync } from "node:fs";
    import { setTimeout as sleep } from "node:timers/promises";
    const { withFetchLock } = await import(${JSON.stringify(LOCK_MODULE)});
    await withFetchLock(${JSON.stringify(cacheDir)}, (pid) => appendFileSync(${JSON.stringify(journal)}, "wait " + pid + "\\n"), async () => {
      appendFileSync(${JSON.stringify(journal)}, "in " + process.pid + "\\n");
      await sleep(300); // long enough that processes starting under load still overlap (some must wait)
      appendFileSync(${JSON.stringify(journal)}, "out " + process.pid + "\\n");
    });`;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("close", (code) => resolve({ code, stderr }));
  });
}

describe("the engine cache's fetch lock", () => {
  // The CI failure this guards against: two fetches started together both took
  // the lock (a pid file read while still empty counted as a dead holder).
  test("eight processes started together hold it one at a time, and it is gone afterwards", async () => {
    const cache = tempDir("lock");
    const journal = join(cache, "journal");
    const outs = await Promise.all(Array.from({ length: 8 }, () => contender(cache, journal)));
    expect(
      outs.map((o) => o.code),
      outs.map((o) => o.stderr).join("\n"),
    ).toEqual(Array(8).fill(0));
    const held = readFileSync(journal, "utf8")
      .split("\n")
      .filter((l) => /^(in|out) /.test(l));
    expect(held).toHaveLength(16);
    // Strictly alternating in/out of the same process: nobody entered while another held it.
    for (let i = 0; i < held.length; i += 2) expect(held[i + 1]).toBe(held[i]!.replace(/^in/, "out"));
    expect(readFileSync(journal, "utf8")).toMatch(/^wait \d+$/m);
    expect(readdirSync(cache).filter((e) => e.startsWith(".fetch"))).toEqual([]);
    expect(existsSync(join(cache, ".fetch.lock"))).toBe(false);
  });
});
