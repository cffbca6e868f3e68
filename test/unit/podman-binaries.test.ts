import { describe, expect, test } from "vitest";
import { parseDepends, parsePodmanSpec, parsePodmanVersion } from "../../harness/engine/podman-binaries.js";
import { podmanContainersConf } from "../../harness/engine/private-engine.js";
import { parseProfileChoice, profileRunArgs } from "../../harness/profile-choice.js";

describe("a fetched Podman", () => {
  test("its library closure reads apt-cache depends: hard dependencies and each alternative, no virtual packages", () => {
    const listing = [
      "podman",
      "  Depends: conmon",
      " |Depends: crun",
      "  Depends: runc",
      "  Depends: libc6",
      "  PreDepends: libgpgme11t64",
      "  Depends: <libsubid5-virtual>",
      "  Recommends: buildah",
      "crun",
      "  Depends: libc6",
      "  Depends: libyajl2:any",
    ].join("\n");
    expect(parseDepends(listing)).toEqual(["conmon", "crun", "runc", "libc6", "libgpgme11t64", "libyajl2"]);
  });

  test("a spec is a suite (aliases too) or a version; anything else is refused", () => {
    expect(parsePodmanSpec("trixie")).toEqual({ suite: "trixie" });
    expect(parsePodmanSpec("Stable")).toEqual({ suite: "trixie" });
    expect(parsePodmanSpec("unstable")).toEqual({ suite: "sid" });
    expect(parsePodmanSpec("5.4")).toEqual({ version: "5.4" });
    expect(() => parsePodmanSpec("latest")).toThrow(/"latest" is neither a Debian suite .* nor a Podman version/);
    expect(parsePodmanVersion("podman version 5.4.2\n")).toBe("5.4.2");
    expect(parsePodmanVersion("docker version 28")).toBeUndefined();
  });

  test("its containers.conf runs the helpers fetched with it; crun only on cgroups v2 alone, else runc", () => {
    const own = podmanContainersConf(undefined, true);
    expect(own).not.toMatch(/helper_binaries_dir|conmon_path|runtime/);
    expect(own).toContain("default_ulimits = []");
    const hybrid = podmanContainersConf("/cache/podman/5.4.2/bin", false);
    expect(hybrid).toContain('helper_binaries_dir = ["/cache/podman/5.4.2/bin"]');
    expect(hybrid).toContain('conmon_path = ["/cache/podman/5.4.2/bin/conmon"]');
    expect(hybrid).toContain('runtime = "runc"');
    expect(hybrid).toContain('runc = ["/cache/podman/5.4.2/bin/runc"]');
    expect(podmanContainersConf("/b", true)).toContain('runtime = "crun"');
    // [engine.runtimes] is a table of its own: the network settings stay under [network].
    expect(hybrid.indexOf("[network]")).toBeGreaterThan(hybrid.indexOf("[engine.runtimes]"));
  });

  test("podman-VERSION is a profile: a private Podman of that version", () => {
    expect(parseProfileChoice("podman-5.4")).toEqual({ spec: "podman-5.4", family: "podman", version: "5.4" });
    expect(profileRunArgs(parseProfileChoice("podman-sid"))).toEqual(["--engine", "podman", "--engine-version", "sid"]);
    expect(profileRunArgs(parseProfileChoice("podman"))).toEqual(["--engine", "podman"]);
  });
});
