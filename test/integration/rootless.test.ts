import { chmodSync, readFileSync, statSync } from "node:fs";
import { tempDir } from "../temp-dir.js";
import { join } from "node:path";
import { parse } from "yaml";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { rootlessUsers } from "../../harness/engine/rootless-engine.js";
import type { ScenarioResult } from "../../harness/results.js";
import { schemaErrors } from "../schemas.js";
import { docknetLeftovers } from "./leftovers.js";
import { docknet } from "./run-cli.js";

interface Report {
  engine: { profile: { family: string; mode: string }; engineVersion: string };
  results: ScenarioResult[];
}

const TUN = "/dev/net/tun";
const tunMode = () => statSync(TUN).mode & 0o777;

const run = async (args: string[]) => {
  const out = await docknet(["run", "--profile", "rootless", ...args, "--json", "-"]);
  return { out, report: out.stdout ? (JSON.parse(out.stdout) as Report) : undefined };
};

/**
 * The rootless profile (issue 18): docker.io's dockerd-rootless.sh (RootlessKit, slirp4netns) run by
 * a user docknet makes for the engine and removes with it. This machine's /dev/net/tun is 0600 (a
 * container sandbox); a stock distribution's udev makes it 0666, which slirp4netns needs: the tests
 * give it that mode, as such a host has it, and put back what they found.
 */
describe("a private rootless Docker engine", () => {
  let found: number;
  beforeAll(() => {
    found = tunMode();
    chmodSync(TUN, 0o666);
  });
  afterAll(() => chmodSync(TUN, found));

  test("with /dev/net/tun closed to users: one line naming it, exit 3, before anything is made", async () => {
    chmodSync(TUN, 0o600);
    try {
      const { out } = await run(["UB-01"]);
      expect(out.code).toBe(3);
      expect(out.stderr.trim().split("\n").at(-1)).toMatch(
        /^docknet: \/dev\/net\/tun is mode 0600 here, closed to unprivileged users .*slirp4netns/,
      );
    } finally {
      chmodSync(TUN, 0o666);
    }
    expect(docknetLeftovers()).toEqual([]);
  });

  test("runs the scenarios rootless, lists ping's documented difference, reports the profile, and removes its user", async () => {
    const conformanceFile = join(tempDir("conformance"), "rootless.yaml");
    const { out, report } = await run([
      "UB-01",
      "DNS-02",
      "ISO-01",
      "UB-06",
      "PP-01",
      "--conformance",
      conformanceFile,
    ]);
    expect(out.code, out.stderr).toBe(0);
    expect(report!.engine.profile).toMatchObject({ family: "docker", mode: "rootless" });
    expect(out.stderr).toMatch(/^engine: private rootless dockerd \(user docknet-[0-9a-f]{8}\) /m);
    const verdicts = Object.fromEntries(report!.results.map((r) => [r.id, r.status]));
    expect(verdicts).toEqual({
      "UB-01": "passed",
      "UB-06": "passed",
      "DNS-02": "passed",
      "ISO-01": "passed",
      "PP-01": "skipped",
    });
    // The host network is RootlessKit's: published-port checks on the host's addresses skip, saying so.
    expect(report!.results.find((r) => r.id === "PP-01")?.reason).toMatch(/engine is rootless/);
    expect(report!.results.find((r) => r.id === "UB-06")?.documentedDifferences).toEqual([
      expect.objectContaining({ family: "rootless", source: "Rootless mode › Troubleshooting › Ping doesn't work" }),
    ]);
    const conformance = parse(readFileSync(conformanceFile, "utf8")) as Record<string, unknown>;
    expect(schemaErrors(conformance)).toEqual([]);
    expect(conformance).toMatchObject({
      implementation: { family: "docker", mode: "rootless" },
      verdict: "conformant with documented differences",
    });
    expect(docknetLeftovers()).toEqual([]);
  });

  test("the rootless-keyed expectation fails on its broken setup", async () => {
    const { out, report } = await run(["UB-06", "--fault", "unprivileged-defaults-reset"]);
    expect(out.code).toBe(1);
    expect(report!.results.map((r) => [r.id, r.status])).toEqual([["UB-06", "failed"]]);
    expect(docknetLeftovers()).toEqual([]);
  });

  test("kill -9 mid-run leaves the engine and its user; docknet clean removes both", async () => {
    const out = await docknet(["run", "--profile", "rootless", "UB-01"], {
      onStderr: (text, child) => {
        if (/^engine: /m.test(text)) child.kill("SIGKILL");
      },
    });
    expect(out.signal).toBe("SIGKILL");
    expect(rootlessUsers()).toHaveLength(1);
    expect((await docknet(["clean"])).code).toBe(0);
    expect(docknetLeftovers()).toEqual([]);
  });
});
