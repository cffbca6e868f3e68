import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { bundledNode, parseLdd, productionPackages, type RuntimeBundle } from "../../harness/engine/runtime-bundle.js";
import { tempDir } from "../temp-dir.js";

function pkg(dir: string, manifest: Record<string, unknown>): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "package.json"), JSON.stringify(manifest));
}

describe("docknet's runtime, shipped to an engine's host that is not this machine", () => {
  test("ldd's listing: the libraries by path and the loader; the vdso has no file", () => {
    const listed = parseLdd(
      [
        "\tlinux-vdso.so.1 (0x00007eff066eb000)",
        "\tlibstdc++.so.6 => /lib/x86_64-linux-gnu/libstdc++.so.6 (0x00007eff06400000)",
        "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007eff0613e000)",
        "\t/lib64/ld-linux-x86-64.so.2 (0x00007eff066ed000)",
      ].join("\n"),
    );
    expect(listed).toEqual({
      libraries: ["/lib/x86_64-linux-gnu/libstdc++.so.6", "/lib/x86_64-linux-gnu/libc.so.6"],
      loader: "/lib64/ld-linux-x86-64.so.2",
    });
  });

  test("the packages it needs at run time, resolved as node does: hoisted, nested once, dev dependencies left out", () => {
    const root = tempDir("bundle");
    pkg(root, { dependencies: { a: "1" }, devDependencies: { dev: "1" }, optionalDependencies: { gone: "1" } });
    pkg(join(root, "node_modules", "a"), { dependencies: { b: "1", c: "1" } });
    pkg(join(root, "node_modules", "b"), {});
    // a's own c (another version) sits inside a: it goes with a, not again on its own.
    pkg(join(root, "node_modules", "a", "node_modules", "c"), { dependencies: { b: "1" } });
    pkg(join(root, "node_modules", "dev"), {});
    expect(productionPackages(root)).toEqual([join(root, "node_modules", "a"), join(root, "node_modules", "b")]);
  });

  test("a dependency that is not installed is an error naming it; an optional one is not", () => {
    const root = tempDir("bundle");
    pkg(root, { dependencies: { missing: "1" } });
    expect(() => productionPackages(root)).toThrow(/missing, which .* needs, is not installed/);
  });

  test("node runs there through the bundle's own loader and libraries, all under the directory it was unpacked in", () => {
    const bundle: RuntimeBundle = {
      id: "x",
      paths: [],
      loader: "lib64/ld-linux-x86-64.so.2",
      libraryDirs: ["lib/x86_64-linux-gnu", "usr/lib"],
      node: "usr/bin/node",
      cli: "opt/docknet/dist/harness/cli.js",
      bytes: 0,
    };
    expect(bundledNode(bundle, "/var/tmp/docknet-runtime-x")).toEqual([
      "/var/tmp/docknet-runtime-x/lib64/ld-linux-x86-64.so.2",
      "--library-path",
      "/var/tmp/docknet-runtime-x/lib/x86_64-linux-gnu:/var/tmp/docknet-runtime-x/usr/lib",
      "/var/tmp/docknet-runtime-x/usr/bin/node",
    ]);
  });
});
