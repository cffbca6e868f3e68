import { createSocket } from "node:dgram";
import { appendFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { realpathSync } from "node:fs";

/**
 * A stub DNS server for docknet's outside world (and the engine host's
 * loopback): it answers A queries for the names of its zone, NXDOMAIN for
 * the rest, and logs every query with its source, so that a scenario can
 * show where a container's lookup really went. Run as a program inside a
 * namespace: `node dns-stub.js ADDRESS[,ADDRESS…] PORT LOG NAME=IP…`.
 */

/** The zone docknet's outside world serves (RFC 6761 reserves .test). */
export const OUTSIDE_ZONE_NAME = "www.docknet.test";

interface Question {
  readonly name: string;
  readonly type: number;
  /** Where the question section ends. */
  readonly end: number;
}

export function parseQuestion(packet: Buffer): Question | undefined {
  if (packet.length < 12 || packet.readUInt16BE(4) < 1) return undefined;
  const labels: string[] = [];
  let offset = 12;
  while (offset < packet.length) {
    const length = packet[offset]!;
    if (length === 0) break;
    if (length > 63) return undefined; // compression is not used in questions
    labels.push(packet.subarray(offset + 1, offset + 1 + length).toString("ascii"));
    offset += 1 + length;
  }
  if (offset + 5 > packet.length) return undefined;
  return { name: labels.join(".").toLowerCase(), type: packet.readUInt16BE(offset + 1), end: offset + 5 };
}

/** The answer: an A record for a name of the zone, NOERROR and nothing for its other types, NXDOMAIN otherwise. */
export function answer(packet: Buffer, zone: ReadonlyMap<string, string>): Buffer | undefined {
  const question = parseQuestion(packet);
  if (!question) return undefined;
  const address = zone.get(question.name);
  const header = Buffer.alloc(12);
  packet.copy(header, 0, 0, 2);
  const recursionDesired = packet[2]! & 0x01;
  const rcode = address === undefined ? 3 : 0;
  header.writeUInt16BE(0x8080 | (recursionDesired << 8) | rcode, 2);
  header.writeUInt16BE(1, 4);
  const withAnswer = address !== undefined && question.type === 1;
  header.writeUInt16BE(withAnswer ? 1 : 0, 6);
  const parts = [header, packet.subarray(12, question.end)];
  if (withAnswer) {
    const record = Buffer.alloc(16);
    record.writeUInt16BE(0xc00c, 0); // the name, by pointer to the question
    record.writeUInt16BE(1, 2); // A
    record.writeUInt16BE(1, 4); // IN
    record.writeUInt32BE(60, 6);
    record.writeUInt16BE(4, 10);
    address.split(".").forEach((octet, i) => record.writeUInt8(Number(octet), 12 + i));
    parts.push(record);
  }
  return Buffer.concat(parts);
}

function serve(address: string, port: number, log: string, zone: ReadonlyMap<string, string>): void {
  const socket = createSocket(address.includes(":") ? "udp6" : "udp4");
  socket.on("message", (packet, from) => {
    const question = parseQuestion(packet);
    appendFileSync(log, `${from.address} ${question?.name ?? "?"} ${question?.type ?? 0}\n`);
    const reply = answer(packet, zone);
    if (reply) socket.send(reply, from.port, from.address);
  });
  socket.bind(port, address);
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [addresses, port, log, ...records] = process.argv.slice(2);
  const zone = new Map(records.map((record) => record.split("=") as [string, string]));
  for (const address of addresses!.split(",")) serve(address, Number(port), log!, zone);
  // A stub outlives nothing: when the run that started it dies, it goes too
  // (one in a container's namespace would otherwise keep that namespace).
  const parent = process.ppid;
  setInterval(() => process.ppid !== parent && process.exit(0), 1000).unref();
}
