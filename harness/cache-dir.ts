import { existsSync, readdirSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

/** docknet's cache: $DOCKNET_CACHE_DIR, else $XDG_CACHE_HOME/docknet, else ~/.cache/docknet. */
export function docknetCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.DOCKNET_CACHE_DIR ?? join(env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "docknet");
}

/**
 * What each entry of a cache directory holds, read by READ: entries starting with "." (locks,
 * fetches under way) are passed over, and one READ throws on or answers undefined for is not there.
 */
export function cacheEntries<T>(cacheDir: string, read: (dir: string) => T | undefined): T[] {
  if (!existsSync(cacheDir)) return [];
  const found: T[] = [];
  for (const entry of readdirSync(cacheDir)) {
    if (entry.startsWith(".")) continue;
    try {
      const value = read(join(cacheDir, entry));
      if (value !== undefined) found.push(value);
    } catch {
      // an entry without a readable record or intact files is nothing cached
    }
  }
  return found;
}
