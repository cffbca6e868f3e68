/**
 * What a scope changed, undone in one place. Each change pushes its own undo
 * when it is made; tearing down runs them newest first, within three phases
 * that the engine imposes: processes and files of the scope first, then the
 * engine's containers and networks (found by label, so that even what a
 * crashed step made goes), then the host's links, addresses and rules, which
 * networks on them must no longer use.
 */
export type UndoPhase = "before-engine-objects" | "engine-objects" | "after-engine-objects";

const PHASES: readonly UndoPhase[] = ["before-engine-objects", "engine-objects", "after-engine-objects"];

interface Undo {
  readonly phase: UndoPhase;
  readonly what: string;
  readonly run: () => unknown;
}

export class UndoStack {
  private readonly undos: Undo[] = [];

  /** Registers how to undo a change just made; `what` names it when its undo fails. */
  push(phase: UndoPhase, what: string, run: () => unknown): void {
    this.undos.push({ phase, what, run });
  }

  /** How many undos wait, for tests. */
  get size(): number {
    return this.undos.length;
  }

  /**
   * Runs every undo, newest first within each phase, and empties the stack:
   * calling it again undoes only what was pushed since. One failing undo does
   * not stop the others; their errors are thrown together at the end.
   */
  async unwind(): Promise<void> {
    const taken = this.undos.splice(0);
    const failed: string[] = [];
    for (const phase of PHASES) {
      for (const undo of taken.filter((u) => u.phase === phase).reverse()) {
        try {
          await undo.run();
        } catch (error) {
          failed.push(`${undo.what}: ${(error as Error).message}`);
        }
      }
    }
    if (failed.length) throw new Error(`teardown left some things behind: ${failed.join("; ")}`);
  }
}
