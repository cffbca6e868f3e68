import { existsSync, readFileSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { hasSha256, sha256File } from "../../harness/engine/verified-files.js";
import { tempDir } from "../temp-dir.js";

describe("checking a cached file against its recorded sha256", () => {
  const setup = () => {
    const dir = tempDir("verified");
    const file = join(dir, "dockerd");
    writeFileSync(file, "the engine, as fetched");
    return { file, stamps: join(dir, "verified.json"), sum: sha256File(file) };
  };

  test("holds for the file as fetched and stamps it; a wrong sum does not hold", () => {
    const { file, stamps, sum } = setup();
    expect(hasSha256(file, "0".repeat(64), stamps)).toBe(false);
    expect(existsSync(stamps)).toBe(false);
    expect(hasSha256(file, sum, stamps)).toBe(true);
    expect(Object.keys(JSON.parse(readFileSync(stamps, "utf8")) as object)).toEqual([file]);
  });

  test("a stamped file whose stat is unchanged is not read again", () => {
    const { file, stamps, sum } = setup();
    const stat = statSync(file);
    // A stamp saying the file had this (wrong) sum with its current stat: trusted without hashing.
    const claimed = "f".repeat(64);
    const stamp = { sha256: claimed, ino: stat.ino, size: stat.size, mtimeMs: stat.mtimeMs, ctimeMs: stat.ctimeMs };
    writeFileSync(stamps, JSON.stringify({ [file]: stamp }));
    expect(hasSha256(file, claimed, stamps)).toBe(true);
    expect(hasSha256(file, sum, stamps)).toBe(true);
  });

  test("a change of the same size with its mtime set back is still found (ctime moved)", async () => {
    const { file, stamps, sum } = setup();
    expect(hasSha256(file, sum, stamps)).toBe(true);
    const before = statSync(file);
    await new Promise((resolve) => setTimeout(resolve, 20));
    writeFileSync(file, "the engine, as altered");
    utimesSync(file, before.atime, before.mtime);
    expect(statSync(file).size).toBe(before.size);
    expect(hasSha256(file, sum, stamps)).toBe(false);
  });

  test("an unwritable stamps file costs only the hashing", () => {
    const { file, sum } = setup();
    expect(hasSha256(file, sum, join(file, "not-a-directory", "verified.json"))).toBe(true);
  });
});
