import { closeSync, existsSync, openSync, readSync } from "node:fs";
import { EngineUnavailable } from "./exit-codes.js";

const BUSYBOX_CANDIDATES = ["/bin/busybox", "/usr/bin/busybox"];

/** True when an ELF binary has no program interpreter, i.e. runs in an empty image. */
export function isStaticElf(path: string): boolean {
  const fd = openSync(path, "r");
  try {
    const header = Buffer.alloc(64);
    readSync(fd, header, 0, 64, 0);
    if (header.readUInt32BE(0) !== 0x7f454c46 || header[4] !== 2) return false; // ELF64 only
    const phoff = Number(header.readBigUInt64LE(0x20));
    const phentsize = header.readUInt16LE(0x36);
    const phnum = header.readUInt16LE(0x38);
    const entry = Buffer.alloc(4);
    for (let i = 0; i < phnum; i++) {
      readSync(fd, entry, 0, 4, phoff + i * phentsize);
      if (entry.readUInt32LE(0) === 3) return false; // PT_INTERP: dynamically linked
    }
    return true;
  } finally {
    closeSync(fd);
  }
}

/** The static busybox to build from: DOCKNET_BUSYBOX, else Debian's busybox-static. */
export function findStaticBusybox(): string {
  const candidates = process.env.DOCKNET_BUSYBOX ? [process.env.DOCKNET_BUSYBOX] : BUSYBOX_CANDIDATES;
  for (const candidate of candidates) {
    if (existsSync(candidate) && isStaticElf(candidate)) return candidate;
  }
  throw new EngineUnavailable(
    `no static busybox to build the probe image from (looked at ${candidates.join(", ")}): apt-get install -y busybox-static, or pass --probe-image IMAGE`,
  );
}
