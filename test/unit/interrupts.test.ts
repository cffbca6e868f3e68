import { afterEach, expect, test, vi } from "vitest";
import { watchInterrupts } from "../../harness/commands/interrupts.js";

type Listener = (...args: unknown[]) => void;
// process.listeners() has one overload per event kind; these three are read and removed alike.
const listenersOf = (event: string) => process.listeners(event as NodeJS.Signals) as Listener[];
const watched = ["SIGINT", "SIGTERM", "unhandledRejection"];
const before = new Map(watched.map((event) => [event, listenersOf(event)]));

afterEach(() => {
  // Leave the worker's own handlers as they were.
  for (const event of watched) {
    for (const listener of listenersOf(event)) {
      if (!before.get(event)!.includes(listener)) process.off(event as NodeJS.Signals, listener);
    }
  }
  vi.restoreAllMocks();
});

test("a promise of docknet's own that fails unheard ends the run as an interrupt does: cancelled, cleaned, exit 4, one line", () => {
  const written: string[] = [];
  vi.spyOn(process.stderr, "write").mockImplementation((chunk) => (written.push(String(chunk)), true));
  const abort = new AbortController();
  const interrupts = watchInterrupts(abort);
  process.emit(
    "unhandledRejection",
    new Error("(HTTP code 404) no such exec - No such exec instance: 42\nstack"),
    Promise.resolve(),
  );
  expect(abort.signal.aborted).toBe(true);
  expect(abort.signal.reason).toBe("an internal error");
  expect(interrupts.exitCode()).toBe(4);
  expect(written.join("")).toBe(
    "\ndocknet: internal error (a bug in docknet): (HTTP code 404) no such exec - No such exec instance: 42\nremoving what this run made...\n",
  );
});

test("after Ctrl-C, a later fault is named but does not change the exit code", () => {
  vi.spyOn(process.stderr, "write").mockImplementation(() => true);
  const abort = new AbortController();
  const interrupts = watchInterrupts(abort);
  process.emit("SIGINT", "SIGINT");
  process.emit("unhandledRejection", new Error("late"), Promise.resolve());
  expect(abort.signal.reason).toBe("SIGINT");
  expect(interrupts.exitCode()).toBe(130);
});
