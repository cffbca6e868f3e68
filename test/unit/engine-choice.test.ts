import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { tempDir } from "../temp-dir.js";
import { InvalidArgumentError } from "commander";
import { parseDuration, parsePositiveInt } from "../../harness/cli.js";
import { dockerodeOptions, resolveCurrentDockerHost } from "../../harness/engine/docker-host.js";
import { isStaticElf } from "../../harness/static-busybox.js";

describe("finding the current engine", () => {
  test("DOCKER_HOST wins", () => {
    expect(resolveCurrentDockerHost({ DOCKER_HOST: "tcp://10.0.0.1:2375" })).toEqual({
      host: "tcp://10.0.0.1:2375",
      source: "DOCKER_HOST",
    });
  });

  test("then the docker context named in the CLI config", () => {
    const dir = tempDir("ctx");
    writeFileSync(join(dir, "config.json"), JSON.stringify({ currentContext: "lab" }));
    const meta = join(dir, "contexts", "meta", createHash("sha256").update("lab").digest("hex"));
    mkdirSync(meta, { recursive: true });
    writeFileSync(
      join(meta, "meta.json"),
      JSON.stringify({ Name: "lab", Endpoints: { docker: { Host: "unix:///run/lab.sock" } } }),
    );
    expect(resolveCurrentDockerHost({ DOCKER_CONFIG: dir })).toEqual({
      host: "unix:///run/lab.sock",
      source: "docker context",
    });
    expect(resolveCurrentDockerHost({ DOCKER_CONFIG: dir, DOCKER_CONTEXT: "default" }).source).toBe("default socket");
  });

  test("else the default socket", () => {
    const empty = tempDir("ctx");
    expect(resolveCurrentDockerHost({ DOCKER_CONFIG: empty })).toEqual({
      host: "unix:///var/run/docker.sock",
      source: "default socket",
    });
  });

  test("addresses become dockerode options, and nonsense is refused in words", () => {
    expect(dockerodeOptions("unix:///run/x.sock")).toEqual({ socketPath: "/run/x.sock" });
    expect(dockerodeOptions("tcp://127.0.0.1:2375", 500)).toEqual({
      host: "127.0.0.1",
      port: 2375,
      protocol: "http",
      timeout: 500,
    });
    expect(() => dockerodeOptions("not a host")).toThrowError(/is not an address/);
    expect(() => dockerodeOptions("ftp://x")).toThrowError(/does not speak/);
  });
});

describe("command-line values", () => {
  test("durations", () => {
    expect(parseDuration("90s")).toBe(90_000);
    expect(parseDuration("2m")).toBe(120_000);
    expect(parseDuration("1500ms")).toBe(1500);
    expect(parseDuration("30")).toBe(30_000);
    expect(() => parseDuration("soon")).toThrowError(InvalidArgumentError);
    expect(() => parseDuration("0s")).toThrowError(/more than zero/);
  });

  test("whole numbers in range", () => {
    expect(parsePositiveInt(64)("4")).toBe(4);
    for (const bad of ["0", "-1", "2.5", "65", "x"])
      expect(() => parsePositiveInt(64)(bad)).toThrowError(InvalidArgumentError);
  });
});

describe("the probe image's busybox", () => {
  test("a dynamically linked binary is not static", () => expect(isStaticElf(process.execPath)).toBe(false));
  test("a file that is not ELF is not static", () => {
    const file = join(tempDir("elf"), "script");
    writeFileSync(file, "#!/bin/sh\n".padEnd(64, " "));
    expect(isStaticElf(file)).toBe(false);
  });
});
