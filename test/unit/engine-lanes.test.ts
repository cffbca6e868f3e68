import { describe, expect, test } from "vitest";
import { parseAnswer } from "../../harness/engine-lanes.js";

describe("a lane's answer", () => {
  test("a JSON line is the group's report", () => {
    expect(parseAnswer('{"results":[],"containersStarted":3}')).toEqual({ results: [], containersStarted: 3 });
  });

  test("a line cut short fails the group, quoting it, instead of throwing in the run", () => {
    const answer = parseAnswer('{"results":[{"id":"DC-01"');
    expect(answer).toMatchObject({
      failed: expect.stringMatching(/^the lane's answer was not JSON \(.+\): \{"results"/),
    });
  });
});
