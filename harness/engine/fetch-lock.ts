import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { lock } from "proper-lockfile";

/**
 * One fetch at a time per cache. proper-lockfile's lock is a directory made
 * atomically and kept fresh while its holder lives, so two fetches started
 * together never both proceed and a killed fetch's lock goes stale (10 s). The
 * holder's pid, written beside it, is only for the waiting message.
 */
export async function withFetchLock<T>(
  cacheDir: string,
  onWait: (pid: number | undefined) => void,
  body: () => Promise<T>,
): Promise<T> {
  const lockfile = join(cacheDir, ".fetch.lock");
  const holderFile = `${lockfile}.pid`;
  let announced = false;
  let release: () => Promise<void>;
  for (;;) {
    try {
      release = await lock(cacheDir, { lockfilePath: lockfile, stale: 10_000, realpath: false });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ELOCKED") throw error;
      if (!announced) onWait(Number(readIfExists(holderFile)) || undefined);
      announced = true;
      await sleep(200);
    }
  }
  writeFileSync(holderFile, String(process.pid));
  try {
    return await body();
  } finally {
    rmSync(holderFile, { force: true });
    await release();
  }
}

function readIfExists(path: string): string {
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    return "";
  }
}
