import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      { test: { name: "unit", include: ["test/unit/**/*.test.ts"] } },
      // What a person sees of docknet's pages, in Debian's headless Chromium; no engine needed.
      { test: { name: "browser", include: ["test/browser/**/*.test.ts"], testTimeout: 60_000 } },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          // Each file opens its own private engine; testcontainers keeps one engine
          // connection per process, so every file needs a process of its own.
          pool: "forks",
          isolate: true,
          fileParallelism: false,
          testTimeout: 600_000,
          hookTimeout: 300_000,
          globalSetup: ["test/integration/global-setup.ts"],
        },
      },
      {
        test: {
          // The kernel-gated scenarios in docknet's kernel VM (QEMU, minutes of emulation): scripts/test
          // runs them in a vitest of their own after the others, with the machine to themselves.
          name: "kernel-vm",
          include: ["test/kernel-vm/**/*.test.ts"],
          pool: "forks",
          fileParallelism: false,
          testTimeout: 1_200_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
