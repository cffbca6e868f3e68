import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));

/**
 * A program of docknet's own, as built into dist/ (`harness/cli.js`, `harness/engine/dns-stub.js`),
 * whether the caller runs from dist/ or from the sources (under the tests): node runs only the build.
 */
export function builtProgram(pathInHarness: string): string {
  return HERE.split("/").includes("dist")
    ? join(HERE, pathInHarness)
    : join(HERE, "..", "dist", "harness", pathInHarness);
}
