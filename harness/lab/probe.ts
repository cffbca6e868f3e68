import { PassThrough } from "node:stream";
import type Docker from "dockerode";
import type { Observation } from "../evidence.js";
import { abandonOnCancel } from "../cancellation.js";
import { scaled } from "../time-scale.js";
import {
  listeningPorts,
  parseConnect,
  parseUdpExchange,
  parseHttpAnswer,
  parseEnv,
  parseHosts,
  parseInterfaces,
  parseNslookup,
  parsePing,
  parseResolvConf,
  parseRoutes,
  type ConnectOutcome,
  type HostsEntry,
  type HttpOutcome,
  type NameAnswer,
  type NetInterface,
  type PingResult,
  type ResolvConf,
  type Route,
} from "./probe-output.js";
import { sysctlPath } from "../sysctl-path.js";

interface ExecOutcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly how: string;
}

/** What a probe needs of its container: an ID, and a way to run a command in it. */
export interface ContainerHandle {
  readonly id: string;
  /** Runs a command in the container, as its default user or as `user` (`docker exec --user`). */
  exec(command: string[], user?: string): Promise<{ exitCode: number; stdout: string; stderr: string }>;
  /** How a person would run a command there ("docker exec NAME" when absent). */
  readonly runsAs?: string;
}

/**
 * An HTTP/1.0 GET through busybox nc (`-w`: the connect timeout), as argv for a container or host
 * with busybox, and as a person would type it. "count" counts what came back (`wc -c`) within
 * `timeoutSeconds`: nc's -w does not end a transfer that stalls, so `timeout` does.
 */
export function httpGet(
  host: string,
  port: number,
  path: string,
  timeoutSeconds: number,
  answer: "print" | "count" = "print",
): { argv: string[]; how: string } {
  const [bound, count] = answer === "count" ? [`timeout -s KILL ${timeoutSeconds} `, " | wc -c"] : ["", ""];
  const script = `printf 'GET %s HTTP/1.0\\r\\n\\r\\n' "$2" | ${bound}nc -w ${timeoutSeconds} "$0" "$1"${count}`;
  return {
    argv: ["sh", "-c", script, host, String(port), path],
    how: `sh -c 'printf "GET ${path} HTTP/1.0\\r\\n\\r\\n" | ${bound}nc -w ${timeoutSeconds} ${host} ${port}${count}'`,
  };
}

/** Exec through dockerode, for containers testcontainers did not start. */
export function dockerodeHandle(docker: Docker, id: string): ContainerHandle {
  return {
    id,
    async exec(command, user) {
      const exec = await docker
        .getContainer(id)
        .exec({ Cmd: command, AttachStdout: true, AttachStderr: true, ...(user ? { User: user } : {}) });
      const stream = await exec.start({});
      const [stdout, stderr] = [new PassThrough(), new PassThrough()];
      const chunks = { out: [] as Buffer[], err: [] as Buffer[] };
      stdout.on("data", (c: Buffer) => chunks.out.push(c));
      stderr.on("data", (c: Buffer) => chunks.err.push(c));
      docker.modem.demuxStream(stream, stdout, stderr);
      await new Promise((resolve) => stream.on("end", resolve));
      const { ExitCode } = await exec.inspect();
      return {
        exitCode: ExitCode ?? -1,
        stdout: Buffer.concat(chunks.out).toString(),
        stderr: Buffer.concat(chunks.err).toString(),
      };
    },
  };
}

/**
 * How long a "cannot reach" check waits once a control in the same scenario showed the path
 * answering (within milliseconds, over veths): busybox's ping and nc count whole seconds, so one
 * second is the least they can wait, and still hundreds of times what the control took.
 */
export const AFTER_CONTROL_SECONDS = 1;

/**
 * A running probe container and the typed actions run inside it. Every action
 * returns an Observation: data, plus the exact command that observed it.
 */
export class Probe {
  constructor(
    private readonly container: ContainerHandle,
    readonly name: string,
    /** Servers asked for run (false: a broken setup, where `serve` starts nothing). */
    private readonly serversRun = true,
  ) {}

  /** The command prefix evidence shows: `docker exec NAME`, or how the outside host is entered. */
  private get runsAs(): string {
    return this.container.runsAs ?? `docker exec ${this.name}`;
  }

  get id(): string {
    return this.container.id;
  }

  /** The 12-character short ID other containers can resolve. */
  get shortId(): string {
    return this.id.slice(0, 12);
  }

  /**
   * Runs a command inside the probe, always under a hard timeout. A cancelled
   * scenario stops waiting for it at once (the command dies with its timeout or its probe).
   */
  async exec(command: string[], timeoutSeconds = 10): Promise<ExecOutcome> {
    return this.execWith(command, timeoutSeconds);
  }

  /** A command run as another user of the container (`docker exec --user UID:GID`), not root: its exit code. */
  async exitCodeAs(user: string, command: string[], timeoutSeconds = 10): Promise<Observation<number>> {
    const out = await this.execWith(command, timeoutSeconds, user);
    return { value: out.code, how: out.how, raw: out.stdout + out.stderr };
  }

  /**
   * One ARP request for an address (busybox arping on eth0): the MAC that
   * answered, or "" when none did. ARP is below iptables: what filters IP need not filter it.
   */
  async arpReply(address: string, device = "eth0"): Promise<Observation<string>> {
    const out = await this.exec(["arping", "-c", "1", "-w", "2", "-I", device, address]);
    const mac = /reply from \S+ \[([0-9a-f:]{17})\]/i.exec(out.stdout)?.[1]?.toLowerCase() ?? "";
    return { value: mac, how: out.how, raw: out.stdout + out.stderr };
  }

  /**
   * The MAC this container's neighbour table holds for an address ("" when it holds none), read
   * from /proc/net/arp without sending anything: what an unsolicited ARP put there shows as is.
   */
  async neighbourMac(address: string): Promise<Observation<string>> {
    const out = await this.exec(["cat", "/proc/net/arp"]);
    const row = out.stdout
      .split("\n")
      .map((line) => line.trim().split(/\s+/))
      .find((fields) => fields[0] === address);
    // Flags 0x0 is an incomplete entry: no MAC known.
    const mac = row && row[2] !== "0x0" ? (row[3] ?? "").toLowerCase() : "";
    return { value: mac, how: `${this.runsAs} cat /proc/net/arp`, raw: out.stdout };
  }

  /** A kernel parameter as the container sees it (its own network namespace's), e.g. net.ipv4.ip_forward. */
  async sysctl(name: string): Promise<Observation<string>> {
    const out = await this.exec(["cat", sysctlPath(name)]);
    return { value: out.stdout.trim(), how: out.how, raw: out.stdout + out.stderr };
  }

  private async execWith(command: string[], timeoutSeconds: number, user?: string): Promise<ExecOutcome> {
    const timeout = String(Math.ceil(scaled(timeoutSeconds * 1000) / 1000));
    const result = await abandonOnCancel(() =>
      this.container.exec(["timeout", "-s", "KILL", timeout, ...command], user),
    );
    const runsAs = user ? this.runsAs.replace(/^docker exec /, `docker exec --user ${user} `) : this.runsAs;
    return {
      code: result.exitCode,
      stdout: result.stdout,
      stderr: result.stderr,
      how: `${runsAs} ${command.join(" ")}`,
    };
  }

  /** DNS only, as the container's resolver configuration says (busybox nslookup). */
  async resolve(name: string, server?: string, type: "a" | "aaaa" = "a"): Promise<Observation<NameAnswer>> {
    const out = await this.exec([
      "nslookup",
      `-type=${type}`,
      "-timeout=2",
      "-retry=1",
      name,
      ...(server ? [server] : []),
    ]);
    return { value: parseNslookup(`${out.stdout}\n${out.stderr}`), how: out.how, raw: out.stdout + out.stderr };
  }

  /** The addresses a name resolves to, or [] — a convenience over resolve(). */
  async addressesOf(name: string, type: "a" | "aaaa" = "a"): Promise<Observation<string[]>> {
    const answer = await this.resolve(name, undefined, type);
    return { ...answer, value: answer.value.addresses };
  }

  /**
   * One ICMP echo (of `payloadBytes` when given), waiting `waitSeconds` for the reply; resolves
   * names the way applications do (hosts file, then DNS).
   */
  async ping(
    target: string,
    family: "ipv4" | "ipv6" = "ipv4",
    { payloadBytes, waitSeconds = 2 }: { payloadBytes?: number; waitSeconds?: number } = {},
  ): Promise<Observation<PingResult>> {
    const size = payloadBytes !== undefined ? ["-s", String(payloadBytes)] : [];
    const wait = String(waitSeconds);
    const out = await this.exec(["ping", ...(family === "ipv6" ? ["-6"] : []), ...size, "-c", "1", "-W", wait, target]);
    return { value: parsePing(`${out.stdout}\n${out.stderr}`, out.code), how: out.how, raw: out.stdout + out.stderr };
  }

  /** Opens a TCP connection: open, refused, timeout, unresolved or unreachable. */
  async connect(
    host: string,
    port: number,
    timeoutSeconds = 3,
    protocol: "tcp" | "udp" = "tcp",
  ): Promise<Observation<ConnectOutcome>> {
    if (protocol === "udp") {
      // Debian's busybox nc has no UDP mode; nslookup sends a UDP datagram to host:port and reports what came back.
      const out = await this.exec(
        ["nslookup", `-timeout=${timeoutSeconds}`, "-retry=1", this.name, `${host}:${port}`],
        timeoutSeconds * 2 + 5,
      );
      return { value: parseUdpExchange(`${out.stdout}\n${out.stderr}`), how: out.how, raw: out.stdout + out.stderr };
    }
    const out = await this.exec(["nc", "-w", String(timeoutSeconds), host, String(port)], timeoutSeconds + 5);
    return { value: parseConnect(out.stderr, out.code), how: `${out.how} </dev/null`, raw: out.stderr };
  }

  /**
   * Sends an HTTP request and reports how it was answered: "HTTP 404" from the
   * probe's httpd, "closed without answer", or the connect outcome. Through the
   * userland proxy a published port accepts connections even when nothing
   * listens behind it, so only an answer proves the path end to end.
   */
  async request(host: string, port: number, timeoutSeconds = 3): Promise<Observation<HttpOutcome>> {
    const answer = await this.http(host, port, "/", timeoutSeconds);
    return { ...answer, value: answer.value.status };
  }

  /** The body of an HTTP GET, trimmed; or "no answer (<why>)". */
  async fetch(host: string, port: number, path: string, timeoutSeconds = 3): Promise<Observation<string>> {
    const answer = await this.http(host, port, path, timeoutSeconds);
    const { status, body } = answer.value;
    return { ...answer, value: status.startsWith("HTTP 2") ? body : `no answer (${status})` };
  }

  private async http(
    host: string,
    port: number,
    path: string,
    timeoutSeconds: number,
  ): Promise<Observation<{ status: HttpOutcome; body: string }>> {
    const get = httpGet(host, port, path, timeoutSeconds);
    const out = await this.exec(get.argv, timeoutSeconds + 5);
    return {
      value: {
        status: parseHttpAnswer(out.stdout, out.stderr, out.code),
        body: out.stdout
          .split(/\r?\n\r?\n/)
          .slice(1)
          .join("\n\n")
          .trim(),
      },
      how: `${this.runsAs} ${get.how}`,
      raw: `${out.stdout.split("\n")[0] ?? ""}${out.stderr}`,
    };
  }

  /**
   * How many bytes an HTTP GET brought back (headers included) within `seconds`: a transfer that
   * stalls midway counts short.
   */
  async download(host: string, port: number, path: string, seconds = 3): Promise<Observation<number>> {
    const get = httpGet(host, port, path, seconds, "count");
    const out = await this.exec(get.argv, seconds + 5);
    return { value: Number(out.stdout.trim()) || 0, how: `${this.runsAs} ${get.how}`, raw: out.stdout + out.stderr };
  }

  /** Starts a TCP server (busybox httpd) on a port, on every address or on `address` alone; returns whether it listens. */
  async serve(port: number, address?: string): Promise<Observation<boolean>> {
    const listen = address ? `${address}:${port}` : String(port);
    if (!this.serversRun) return { value: true, how: `${this.runsAs} httpd -p ${listen} -h /www` };
    const out = await this.exec(["httpd", "-p", listen, "-h", "/www"]);
    return { value: out.code === 0, how: out.how, raw: out.stderr };
  }

  async interfaces(): Promise<Observation<NetInterface[]>> {
    const out = await this.exec(["sh", "-c", "ip -o link; echo '--'; ip -o addr"]);
    const [links = "", addrs = ""] = out.stdout.split("\n--\n");
    return {
      value: parseInterfaces(links, addrs),
      how: `${this.runsAs} sh -c 'ip -o link; ip -o addr'`,
      raw: out.stdout,
    };
  }

  /** IPv6 addresses still in duplicate address detection: nothing reaches them yet. */
  async tentativeIpv6(): Promise<Observation<string[]>> {
    const out = await this.exec(["ip", "-6", "-o", "addr", "show", "tentative"]);
    return { value: [...out.stdout.matchAll(/inet6 (\S+)/g)].map((m) => m[1]!), how: out.how, raw: out.stdout };
  }

  /** The IPv4 addresses (no prefix length) of one interface: none when there is no such interface. */
  async ipv4AddressesOf(name: string): Promise<Observation<string[]>> {
    const found = await this.interfaces();
    const addresses = found.value.find((i) => i.name === name)?.ipv4 ?? [];
    return { ...found, value: addresses.map((cidr) => cidr.split("/")[0]!) };
  }

  /** The names of the interfaces, for checks that only care which exist. */
  async interfaceNames(): Promise<Observation<string[]>> {
    const found = await this.interfaces();
    return { ...found, value: found.value.map((i) => i.name) };
  }

  async routes(family: "ipv4" | "ipv6" = "ipv4"): Promise<Observation<Route[]>> {
    const out = await this.exec(family === "ipv4" ? ["ip", "route"] : ["ip", "-6", "route"]);
    return { value: parseRoutes(out.stdout), how: out.how, raw: out.stdout };
  }

  /** The gateway of the default route, or "none". */
  async defaultGateway(): Promise<Observation<string>> {
    const routes = await this.routes();
    const route = routes.value.find((r) => r.destination === "default");
    return { ...routes, value: route?.via ?? "none" };
  }

  async resolvConf(): Promise<Observation<ResolvConf>> {
    const out = await this.exec(["cat", "/etc/resolv.conf"]);
    return { value: parseResolvConf(out.stdout), how: out.how, raw: out.stdout };
  }

  async hosts(): Promise<Observation<HostsEntry[]>> {
    const out = await this.exec(["cat", "/etc/hosts"]);
    return { value: parseHosts(out.stdout), how: out.how, raw: out.stdout };
  }

  /** The addresses /etc/hosts gives a name. */
  async hostsAddressesOf(name: string): Promise<Observation<string[]>> {
    const entries = await this.hosts();
    return { ...entries, value: entries.value.filter((e) => e.names.includes(name)).map((e) => e.address) };
  }

  async env(): Promise<Observation<Record<string, string>>> {
    const out = await this.exec(["env"]);
    return { value: parseEnv(out.stdout), how: out.how, raw: out.stdout };
  }

  /** The TCP ports something listens on in the probe's namespace. */
  async listening(): Promise<Observation<number[]>> {
    const out = await this.exec(["netstat", "-ltn"]);
    return { value: [...listeningPorts(out.stdout)], how: out.how, raw: out.stdout };
  }

  /** The identity of the network namespace the probe lives in. */
  async netns(): Promise<Observation<string>> {
    const out = await this.exec(["readlink", "/proc/self/ns/net"]);
    return { value: out.stdout.trim(), how: out.how, raw: out.stdout };
  }
}
