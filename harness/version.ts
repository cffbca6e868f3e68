import { readFileSync } from "node:fs";

/** docknet's version, from package.json (whether run from sources or from dist/). */
export const VERSION: string = (
  JSON.parse(
    readFileSync(
      new URL(import.meta.url.includes("/dist/") ? "../../package.json" : "../package.json", import.meta.url),
      "utf8",
    ),
  ) as {
    version: string;
  }
).version;
