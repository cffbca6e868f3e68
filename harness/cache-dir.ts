import { homedir } from "node:os";
import { join } from "node:path";

/** docknet's cache: $DOCKNET_CACHE_DIR, else $XDG_CACHE_HOME/docknet, else ~/.cache/docknet. */
export function docknetCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.DOCKNET_CACHE_DIR ?? join(env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "docknet");
}
