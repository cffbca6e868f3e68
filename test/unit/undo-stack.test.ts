import { describe, expect, test } from "vitest";
import { UndoStack } from "../../harness/lab/undo-stack.js";

describe("a scope's undo stack", () => {
  test("undoes newest first within each phase, phase by phase: processes, then engine objects, then the host", async () => {
    const undo = new UndoStack();
    const done: string[] = [];
    undo.push("after-engine-objects", "link", () => done.push("link"));
    undo.push("engine-objects", "sweep", () => done.push("sweep"));
    undo.push("before-engine-objects", "stub dir", () => done.push("stub dir"));
    undo.push("after-engine-objects", "rule", () => done.push("rule"));
    undo.push("before-engine-objects", "stub", () => done.push("stub"));
    await undo.unwind();
    expect(done).toEqual(["stub", "stub dir", "sweep", "rule", "link"]);
  });

  test("a failing undo does not stop the others, and is named in the error; a second unwind undoes only what came after", async () => {
    const undo = new UndoStack();
    const done: string[] = [];
    undo.push("after-engine-objects", "address", () => done.push("address"));
    undo.push("after-engine-objects", "iptables -D FORWARD", () => {
      throw new Error("no such rule");
    });
    await expect(undo.unwind()).rejects.toThrow(/iptables -D FORWARD: no such rule/);
    expect(done).toEqual(["address"]);
    expect(undo.size).toBe(0);
    undo.push("before-engine-objects", "late", () => done.push("late"));
    await undo.unwind();
    expect(done).toEqual(["address", "late"]);
  });
});
