import { describe, expect, test } from "vitest";
import { UsageError } from "../../harness/exit-codes.js";
import { scenario } from "./test-scenario.js";
import { selectScenarios, suggest } from "../../harness/selection.js";

const noop = async () => {};
const all = [
  scenario({ id: "DNS-01", title: "embedded DNS at 127.0.0.11", area: "dns", doc: "d", tags: ["resolver"], run: noop }),
  scenario({ id: "DNS-02", title: "names and aliases", area: "dns", doc: "d", run: noop }),
  scenario({ id: "ISO-01", title: "bridges are isolated", area: "isolation", doc: "d", tags: ["icc"], run: noop }),
  scenario({ id: "UB-01", title: "every port open", area: "user-bridge", doc: "d", tags: ["icc"], run: noop }),
];
const ids = (words: string[]) => selectScenarios(all, words).map((s) => s.id);

describe("selecting scenarios", () => {
  test("no words select everything", () => expect(ids([])).toEqual(["DNS-01", "DNS-02", "ISO-01", "UB-01"]));
  test("by id, case-insensitively", () => expect(ids(["ub-01"])).toEqual(["UB-01"]));
  test("by area", () => expect(ids(["dns"])).toEqual(["DNS-01", "DNS-02"]));
  test("by tag, in both spellings", () => {
    expect(ids(["tag:icc"])).toEqual(["ISO-01", "UB-01"]);
    expect(ids(["@resolver"])).toEqual(["DNS-01"]);
  });
  test("by regex over id and title", () => expect(ids(["/aliases|isolated/"])).toEqual(["DNS-02", "ISO-01"]));
  test("! excludes, alone or after a positive word", () => {
    expect(ids(["!dns"])).toEqual(["ISO-01", "UB-01"]);
    expect(ids(["dns", "!DNS-01"])).toEqual(["DNS-02"]);
    expect(ids(["!/^DNS/", "!tag:icc"])).toEqual([]);
  });
  test("an unknown id is a usage error that suggests close matches", () => {
    expect(() => ids(["DNS-1"])).toThrowError(UsageError);
    expect(() => ids(["DNS-1"])).toThrowError(/did you mean DNS-01 or DNS-02/);
    expect(() => ids(["isolatoin"])).toThrowError(/did you mean isolation/);
  });
  test("an unknown tag and an invalid regex are usage errors", () => {
    expect(() => ids(["tag:nope"])).toThrowError(/unknown tag "nope"/);
    expect(() => ids(["/(unclosed/"])).toThrowError(/invalid regular expression/);
  });
  test("suggestions stay quiet when nothing is close", () => expect(suggest("zzzzzz", ["DNS-01"])).toBe(""));
});
