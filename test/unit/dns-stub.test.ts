import { describe, expect, test } from "vitest";
import { answer, parseQuestion } from "../../harness/engine/dns-stub.js";

/** A query as busybox nslookup sends it: id, RD, one question. */
function query(name: string, type: number, id = 0x1234): Buffer {
  const labels = name.split(".").map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, "ascii")]));
  const header = Buffer.from([id >> 8, id & 0xff, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
  return Buffer.concat([header, ...labels, Buffer.from([0, 0, type, 0, 1])]);
}

describe("the stub DNS server", () => {
  const zone = new Map([["www.docknet.test", "10.213.255.2"]]);

  test("reads the question", () => {
    expect(parseQuestion(query("WWW.docknet.test", 1))).toMatchObject({ name: "www.docknet.test", type: 1 });
    expect(parseQuestion(Buffer.from([1, 2, 3]))).toBeUndefined();
  });

  test("answers an A query of its zone with the address, keeping the id and the question", () => {
    const reply = answer(query("www.docknet.test", 1), zone)!;
    expect(reply.readUInt16BE(0)).toBe(0x1234);
    expect(reply.readUInt16BE(2) & 0x8000).toBe(0x8000); // a response
    expect(reply.readUInt16BE(2) & 0x000f).toBe(0); // NOERROR
    expect(reply.readUInt16BE(6)).toBe(1);
    expect([...reply.subarray(-4)]).toEqual([10, 213, 255, 2]);
  });

  test("gives NOERROR and no answer for another type of a known name, NXDOMAIN for unknown names", () => {
    const aaaa = answer(query("www.docknet.test", 28), zone)!;
    expect([aaaa.readUInt16BE(2) & 0x000f, aaaa.readUInt16BE(6)]).toEqual([0, 0]);
    const unknown = answer(query("nowhere.test", 1), zone)!;
    expect([unknown.readUInt16BE(2) & 0x000f, unknown.readUInt16BE(6)]).toEqual([3, 0]);
  });
});
