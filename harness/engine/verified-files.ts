import { createHash } from "node:crypto";
import { readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { docknetCacheDir } from "../cache-dir.js";

export function sha256File(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

interface Stamp {
  readonly sha256: string;
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
}

type Stamps = Record<string, Stamp>;

/** ~/.cache/docknet/verified.json: the files whose sha256 was last found as recorded, with their stat then. */
export function stampsFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(docknetCacheDir(env), "verified.json");
}

function readStamps(file: string): Stamps {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as Stamps;
  } catch {
    return {};
  }
}

/**
 * Whether a cached file still has the sha256 recorded when it was fetched.
 *
 * Hashing the cached engines and Composes (60-90 MB each) cost ~0.7 s of CPU in every docknet
 * process, and a run starts one per daemon configuration. So a file whose inode, size, mtime and
 * ctime are those of its last successful check is not read again, as git trusts its index: any
 * write changes ctime, and no call a user makes sets ctime back. Stamps that cannot be written
 * cost only the hashing.
 */
export function hasSha256(path: string, expected: string, stamps = stampsFile()): boolean {
  const stat = statSync(path);
  const now = { ino: stat.ino, size: stat.size, mtimeMs: stat.mtimeMs, ctimeMs: stat.ctimeMs };
  const known = readStamps(stamps)[path];
  const unchanged =
    known !== undefined &&
    known.sha256 === expected &&
    known.ino === now.ino &&
    known.size === now.size &&
    known.mtimeMs === now.mtimeMs &&
    known.ctimeMs === now.ctimeMs;
  if (unchanged) return true;
  if (sha256File(path) !== expected) return false;
  try {
    // Re-read just before writing: other docknet processes stamp files of their own meanwhile.
    const next = { ...readStamps(stamps), [path]: { sha256: expected, ...now } };
    const temporary = `${stamps}.${process.pid}`;
    writeFileSync(temporary, JSON.stringify(next));
    renameSync(temporary, stamps);
  } catch {
    // an unwritable cache: the next check hashes again
  }
  return true;
}
