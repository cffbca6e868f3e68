import { createRequire } from "node:module";
import type IpAddr from "ipaddr.js";

// Loaded on first use: scenarios import this module, and `docknet list` should not pay for a CommonJS parse.
let loaded: typeof IpAddr | undefined;
const lib = (): typeof IpAddr => (loaded ??= createRequire(import.meta.url)("ipaddr.js") as typeof IpAddr);

/** Address arithmetic for subnets written as CIDR, IPv4 and IPv6 alike. */

function parse(cidr: string): [IpAddr.IPv4 | IpAddr.IPv6, number] | undefined {
  try {
    return cidr.includes("/")
      ? lib().parseCIDR(cidr)
      : (() => {
          const address = lib().parse(cidr);
          return [address, address.kind() === "ipv4" ? 32 : 128] as [IpAddr.IPv4 | IpAddr.IPv6, number];
        })();
  } catch {
    return undefined;
  }
}

export function isCidr(text: string): boolean {
  return text.includes("/") && parse(text) !== undefined;
}

export function isIpAddress(text: string): boolean {
  return lib().isValid(text);
}

/** Whether an address (a bare address, or an address/prefix) lies inside a subnet. */
export function inSubnet(address: string, cidr: string): boolean {
  const [a, net] = [parse(address.split("/")[0] ?? ""), parse(cidr)];
  if (!a || !net || a[0].kind() !== net[0].kind()) return false;
  return a[0].match(net);
}

/** The IPv4-only form scenarios use; false for anything that is not IPv4. */
export function ipv4InSubnet(address: string, cidr: string): boolean {
  return address.includes(".") && cidr.includes(".") && inSubnet(address, cidr);
}

/** Whether two subnets share any address (one contains the other's base). IPv4 and IPv6 never overlap. */
export function subnetsOverlap(a: string, b: string): boolean {
  const [pa, pb] = [parse(a), parse(b)];
  if (!pa || !pb || pa[0].kind() !== pb[0].kind()) return false;
  const [wide, narrow] = pa[1] <= pb[1] ? [pa, pb] : [pb, pa];
  return narrow[0].match(wide);
}

/** The number of addresses in an IPv4 prefix length (2^(32-bits)). */
export function prefixLength(cidr: string): number | undefined {
  return parse(cidr)?.[1];
}

/** Every /size subnet of an IPv4 base (e.g. 172.17.0.0/16 split in /24s), as CIDR strings. */
export function splitSubnet(base: string, size: number, limit = 65_536): string[] {
  const parsed = parse(base);
  if (!parsed || parsed[0].kind() !== "ipv4" || size < parsed[1] || size > 32) return [];
  const start = (parsed[0] as IpAddr.IPv4).toByteArray().reduce((acc, octet) => acc * 256 + octet, 0);
  const count = Math.min(2 ** (size - parsed[1]), limit);
  const step = 2 ** (32 - size);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const n = start + i * step;
    out.push(`${[24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".")}/${size}`);
  }
  return out;
}

/** The address `offset` places into a subnet, written canonically ("fd0d:1:0::/64", 10 → "fd0d:1::a"). */
export function addressInSubnet(cidr: string, offset: number): string {
  const parsed = parse(cidr);
  if (!parsed) throw new Error(`not a subnet: ${cidr}`);
  const bytes = parsed[0].toByteArray();
  let carry = offset;
  for (let i = bytes.length - 1; i >= 0 && carry > 0; i--) {
    const sum = bytes[i]! + carry;
    bytes[i] = sum % 256;
    carry = Math.floor(sum / 256);
  }
  return lib().fromByteArray(bytes).toString();
}
