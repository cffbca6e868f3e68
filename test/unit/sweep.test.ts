import { describe, expect, test } from "vitest";
import { linkersFirst } from "../../harness/lab/sweep.js";

// As the engine lists them: a link target also bears a name under its linker's ("/client/svr").
const container = (...names: string[]) => ({ Names: names.map((n) => `/${n}`) });

describe("linkersFirst", () => {
  test("a linking container goes before its link's target; containers without links go in the first wave", () => {
    const server = container("server", "client/svr", "other/db");
    const client = container("client");
    const other = container("other");
    const stranger = container("stranger");
    expect(linkersFirst([server, client, stranger, other])).toEqual([[client, stranger, other], [server]]);
  });

  test("a chain of links unwinds from its last linker; a cycle goes at once", () => {
    const [a, b, c] = [container("a"), container("b", "a/to-b"), container("c", "b/to-c")];
    expect(linkersFirst([c, b, a])).toEqual([[a], [b], [c]]);
    const [x, y] = [container("x", "y/to-x"), container("y", "x/to-y")];
    expect(linkersFirst([x, y])).toEqual([[x, y]]);
  });

  test("a target whose linker is already gone goes in the first wave", () => {
    const server = container("server", "gone/svr");
    expect(linkersFirst([server])).toEqual([[server]]);
  });
});
