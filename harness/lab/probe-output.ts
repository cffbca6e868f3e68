/**
 * Parsers of what busybox prints inside a probe. Each turns text into data,
 * so that scenarios compare values, never raw strings.
 */

export interface NetInterface {
  readonly name: string;
  readonly mtu: number;
  readonly mac?: string;
  readonly up: boolean;
  /** Addresses in CIDR form, e.g. 172.17.0.2/16. */
  readonly ipv4: string[];
  readonly ipv6: string[];
}

export interface Route {
  readonly destination: string;
  readonly via?: string;
  readonly dev?: string;
}

export interface ResolvConf {
  readonly nameservers: string[];
  readonly search: string[];
  readonly options: string[];
}

export interface HostsEntry {
  readonly address: string;
  readonly names: string[];
}

export interface NameAnswer {
  /** The server that answered (or was asked). */
  readonly server?: string;
  readonly addresses: string[];
  /** Why no address came back, in the resolver's words. */
  readonly error?: string;
}

export type ConnectOutcome = "open" | "refused" | "timeout" | "unresolved" | "unreachable";

export interface PingResult {
  readonly outcome: "reached" | "no reply" | "unresolved" | "unreachable";
  readonly resolvedTo?: string;
}

/** `ip -o link` and `ip -o addr` together describe the interfaces. */
export function parseInterfaces(linkOutput: string, addrOutput: string): NetInterface[] {
  const byName = new Map<
    string,
    { name: string; mtu: number; mac?: string; up: boolean; ipv4: string[]; ipv6: string[] }
  >();
  for (const line of linkOutput.split("\n")) {
    const match = /^\d+:\s+([^:@\s]+)(?:@\S+)?:\s+<([^>]*)>.*?\bmtu\s+(\d+)/.exec(line);
    if (!match) continue;
    const [, name = "", flags = "", mtu = "0"] = match;
    const mac = /link\/\w+\s+([0-9a-f:]{17})/.exec(line)?.[1];
    byName.set(name, {
      name,
      mtu: Number(mtu),
      up: flags.split(",").includes("UP"),
      ipv4: [],
      ipv6: [],
      ...(mac ? { mac } : {}),
    });
  }
  for (const line of addrOutput.split("\n")) {
    const match = /^\d+:\s+([^:@\s]+)\s+(inet6?)\s+(\S+)/.exec(line);
    if (!match) continue;
    const [, name = "", family, address = ""] = match;
    const entry = byName.get(name);
    if (!entry) continue;
    (family === "inet" ? entry.ipv4 : entry.ipv6).push(address);
  }
  return [...byName.values()];
}

export function parseRoutes(output: string): Route[] {
  return output
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const words = line.split(/\s+/);
      const after = (key: string): string | undefined => {
        const index = words.indexOf(key);
        return index >= 0 ? words[index + 1] : undefined;
      };
      const via = after("via");
      const dev = after("dev");
      return { destination: words[0] ?? "", ...(via ? { via } : {}), ...(dev ? { dev } : {}) };
    });
}

export function parseResolvConf(text: string): ResolvConf {
  const conf = { nameservers: [] as string[], search: [] as string[], options: [] as string[] };
  for (const raw of text.split("\n")) {
    const line = raw.replace(/[#;].*$/, "").trim();
    const [keyword, ...values] = line.split(/\s+/);
    if (keyword === "nameserver" && values[0]) conf.nameservers.push(values[0]);
    else if (keyword === "search" || keyword === "domain") conf.search.push(...values);
    else if (keyword === "options") conf.options.push(...values);
  }
  return conf;
}

export function parseHosts(text: string): HostsEntry[] {
  return text
    .split("\n")
    .map((line) => line.replace(/#.*$/, "").trim())
    .filter(Boolean)
    .map((line) => {
      const [address = "", ...names] = line.split(/\s+/);
      return { address, names };
    });
}

/** busybox nslookup: a "Server/Address" block, then one "Name/Address" block per answer. */
export function parseNslookup(output: string): NameAnswer {
  const lines = output.split("\n").map((line) => line.trim());
  const serverLine = lines.find((line) => /^Address:\s/.test(line));
  const server = serverLine
    ?.replace(/^Address:\s+/, "")
    .replace(/:53$/, "")
    .replace(/#53$/, "");
  const addresses: string[] = [];
  let inAnswer = false;
  for (const line of lines) {
    if (/^Name:\s/.test(line)) inAnswer = true;
    else if (inAnswer && /^Address(?: \d+)?:\s/.test(line))
      addresses.push(line.replace(/^Address(?: \d+)?:\s+/, "").trim());
    else if (line === "") inAnswer = false;
  }
  const errorLine = lines.find((line) =>
    /can't find|timed out|NXDOMAIN|SERVFAIL|REFUSED|can't resolve|bad address/i.test(line),
  );
  return {
    ...(server ? { server } : {}),
    addresses: [...new Set(addresses)],
    ...(addresses.length === 0 ? { error: errorLine ?? (output.trim() || "no answer") } : {}),
  };
}

export function parsePing(output: string, exitCode: number): PingResult {
  const resolvedTo = /^PING \S+ \(([^)]+)\)/m.exec(output)?.[1];
  const extra = resolvedTo ? { resolvedTo } : {};
  if (/bad address|Name or service not known|can't resolve/i.test(output)) return { outcome: "unresolved" };
  if (/Network is unreachable|No route to host|sendto: /i.test(output)) return { outcome: "unreachable", ...extra };
  const received = Number(/(\d+) packets received/.exec(output)?.[1] ?? 0);
  return { outcome: exitCode === 0 && received > 0 ? "reached" : "no reply", ...extra };
}

/** busybox `nc -w N host port </dev/null`: exit 0 when the connection opened. */
export function parseConnect(stderr: string, exitCode: number): ConnectOutcome {
  if (exitCode === 0) return "open";
  if (/refused/i.test(stderr)) return "refused";
  if (/bad address|can't resolve|Name or service not known|Unknown host/i.test(stderr)) return "unresolved";
  if (/unreachable|No route to host/i.test(stderr)) return "unreachable";
  return "timeout";
}

/** "HTTP 404" and the like, "closed without answer", or how the connection failed. */
export type HttpOutcome = string;

/** What a `printf 'GET /…' | nc host port` printed. */
export function parseHttpAnswer(stdout: string, stderr: string, exitCode: number): HttpOutcome {
  const status = /^HTTP\/\d\.\d (\d{3})/.exec(stdout)?.[1];
  if (status) return `HTTP ${status}`;
  if (exitCode === 0) return "closed without answer";
  return parseConnect(stderr, exitCode);
}

/**
 * A UDP exchange made with nslookup: any DNS reply means something answered
 * ("open"), an ICMP port-unreachable shows as "refused", silence as "timeout"
 * (open without reply, or filtered: UDP cannot tell them apart).
 */
export function parseUdpExchange(output: string): ConnectOutcome {
  if (/refused/i.test(output)) return "refused";
  if (/unreachable|No route to host/i.test(output)) return "unreachable";
  if (/bad address|can't resolve/i.test(output)) return "unresolved";
  if (/^Name:|can't find|NXDOMAIN|SERVFAIL|REFUSED/m.test(output)) return "open";
  return "timeout";
}

/** `env` output as a map. */
export function parseEnv(output: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of output.split("\n")) {
    const index = line.indexOf("=");
    if (index > 0) env[line.slice(0, index)] = line.slice(index + 1);
  }
  return env;
}

/** A dotted IPv4 address, alone. */
export const IPV4_ADDRESS = /^\d{1,3}(\.\d{1,3}){3}$/;

/** Parses /proc/net/tcp and /proc/net/tcp6 (the kernel's own table) into the ports in state LISTEN (0A). */
export function listeningPortsInProcNet(table: string): Set<number> {
  const ports = new Set<number>();
  for (const line of table.split("\n")) {
    const [, port, state] = /^\s*\d+:\s+[0-9A-F]+:([0-9A-F]{4})\s+\S+\s+([0-9A-F]{2})\s/i.exec(line) ?? [];
    if (port && state?.toUpperCase() === "0A") ports.add(parseInt(port, 16));
  }
  return ports;
}

/** Parses `netstat -ltn` into the TCP ports something listens on. */
export function listeningPorts(netstat: string): Set<number> {
  const ports = new Set<number>();
  for (const line of netstat.split("\n")) {
    const local = /^tcp6?\s+\d+\s+\d+\s+(\S+)/.exec(line)?.[1];
    const port = Number(local?.slice(local.lastIndexOf(":") + 1));
    if (port) ports.add(port);
  }
  return ports;
}
