import { describe, expect, test } from "vitest";
import { ipv4InSubnet } from "../../harness/cidr.js";
import {
  listeningPorts,
  listeningPortsInProcNet,
  parseConnect,
  parseEnv,
  parseHosts,
  parseInterfaces,
  parseNslookup,
  parsePing,
  parseResolvConf,
  parseUdpExchange,
  parseRoutes,
} from "../../harness/lab/probe-output.js";

// Captured from busybox 1.35 in the probe image on Docker 20.10.
const LINKS = `1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue qlen 1000\\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
13: eth0@if14: <BROADCAST,MULTICAST,UP,LOWER_UP,M-DOWN> mtu 1500 qdisc noqueue \\    link/ether 02:42:ac:11:00:02 brd ff:ff:ff:ff:ff:ff
15: dnk0@if16: <BROADCAST,MULTICAST> mtu 1400 qdisc noop \\    link/ether 02:42:0a:d5:00:02 brd ff:ff:ff:ff:ff:ff
`;
const ADDRS = `1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever
13: eth0    inet 172.17.0.2/16 brd 172.17.255.255 scope global eth0\\       valid_lft forever preferred_lft forever
13: eth0    inet6 fd00::2/64 scope global \\       valid_lft forever preferred_lft forever
`;

describe("parsing probe output", () => {
  test("interfaces join ip -o link and ip -o addr", () => {
    expect(parseInterfaces(LINKS, ADDRS)).toEqual([
      { name: "lo", mtu: 65536, up: true, mac: "00:00:00:00:00:00", ipv4: ["127.0.0.1/8"], ipv6: [] },
      { name: "eth0", mtu: 1500, up: true, mac: "02:42:ac:11:00:02", ipv4: ["172.17.0.2/16"], ipv6: ["fd00::2/64"] },
      { name: "dnk0", mtu: 1400, up: false, mac: "02:42:0a:d5:00:02", ipv4: [], ipv6: [] },
    ]);
  });

  test("routes", () => {
    expect(
      parseRoutes("default via 172.17.0.1 dev eth0 \n172.17.0.0/16 dev eth0 scope link  src 172.17.0.2 \n"),
    ).toEqual([
      { destination: "default", via: "172.17.0.1", dev: "eth0" },
      { destination: "172.17.0.0/16", dev: "eth0" },
    ]);
    expect(parseRoutes("")).toEqual([]);
  });

  test("resolv.conf ignores comments", () => {
    expect(
      parseResolvConf("# ExtServers: [10.0.0.2]\nnameserver 127.0.0.11\nsearch a.test b.test\noptions ndots:0 edns0\n"),
    ).toEqual({
      nameservers: ["127.0.0.11"],
      search: ["a.test", "b.test"],
      options: ["ndots:0", "edns0"],
    });
  });

  test("hosts", () => {
    expect(parseHosts("127.0.0.1\tlocalhost\n# x\n172.17.0.2\tal 5fdd530abd73 srvb\n")).toEqual([
      { address: "127.0.0.1", names: ["localhost"] },
      { address: "172.17.0.2", names: ["al", "5fdd530abd73", "srvb"] },
    ]);
  });

  test("nslookup answers skip the server block", () => {
    const answer =
      "Server:\t\t127.0.0.11\nAddress:\t127.0.0.11:53\n\nNon-authoritative answer:\nName:\tsrv\nAddress: 172.18.0.2\n\nNon-authoritative answer:\n\n";
    expect(parseNslookup(answer)).toEqual({ server: "127.0.0.11", addresses: ["172.18.0.2"] });
  });

  test("nslookup failures keep the resolver's words", () => {
    expect(parseNslookup(";; connection timed out; no servers could be reached\n")).toEqual({
      addresses: [],
      error: ";; connection timed out; no servers could be reached",
    });
    expect(
      parseNslookup("Server:\t\t127.0.0.11\nAddress:\t127.0.0.11:53\n\n** server can't find nosuch: NXDOMAIN\n").error,
    ).toMatch(/NXDOMAIN/);
  });

  test("ping outcomes", () => {
    const ok =
      "PING srv (172.18.0.2): 56 data bytes\n64 bytes from 172.18.0.2: seq=0 ttl=64 time=0.156 ms\n\n--- srv ping statistics ---\n1 packets transmitted, 1 packets received, 0% packet loss\n";
    expect(parsePing(ok, 0)).toEqual({ outcome: "reached", resolvedTo: "172.18.0.2" });
    expect(
      parsePing(
        "PING x (10.0.0.9): 56 data bytes\n\n--- x ping statistics ---\n1 packets transmitted, 0 packets received, 100% packet loss\n",
        1,
      ),
    ).toEqual({
      outcome: "no reply",
      resolvedTo: "10.0.0.9",
    });
    expect(parsePing("ping: bad address 'nosuch'\n", 1)).toEqual({ outcome: "unresolved" });
    expect(
      parsePing("PING 10.9.9.9 (10.9.9.9): 56 data bytes\nping: sendto: Network is unreachable\n", 1).outcome,
    ).toBe("unreachable");
  });

  test("connect outcomes from busybox nc", () => {
    expect(parseConnect("", 0)).toBe("open");
    expect(parseConnect("nc: can't connect to remote host (172.18.0.2): Connection refused\n", 1)).toBe("refused");
    expect(parseConnect("nc: timed out\n", 1)).toBe("timeout");
    expect(parseConnect("nc: bad address 'nosuch'\n", 1)).toBe("unresolved");
    expect(parseConnect("nc: can't connect to remote host (10.1.1.1): Network is unreachable\n", 1)).toBe(
      "unreachable",
    );
  });

  test("UDP exchanges through nslookup", () => {
    expect(
      parseUdpExchange(
        "nslookup: write to '10.213.0.2:5353': Connection refused\n;; connection timed out; no servers could be reached\n",
      ),
    ).toBe("refused");
    expect(parseUdpExchange(";; connection timed out; no servers could be reached\n")).toBe("timeout");
    expect(
      parseUdpExchange(
        "Server:\t\t127.0.0.11\nAddress:\t127.0.0.11:53\n\n** server can't find docknet.probe: NXDOMAIN\n",
      ),
    ).toBe("open");
  });

  test("env", () => expect(parseEnv("A=1\nB=x=y\n\n")).toEqual({ A: "1", B: "x=y" }));

  test("ipv4 subnet membership", () => {
    expect(ipv4InSubnet("172.17.0.2", "172.17.0.0/16")).toBe(true);
    expect(ipv4InSubnet("172.18.0.2", "172.17.0.0/16")).toBe(false);
    expect(ipv4InSubnet("10.213.5.200/24", "10.213.5.128/25")).toBe(true);
    expect(ipv4InSubnet("10.213.5.100", "10.213.5.128/25")).toBe(false);
    expect(ipv4InSubnet("1.2.3.4", "0.0.0.0/0")).toBe(true);
  });
});

describe("host ports in use", () => {
  test("netstat -ltn lists the TCP ports something listens on", () => {
    const netstat = `Active Internet connections (only servers)
Proto Recv-Q Send-Q Local Address           Foreign Address         State
tcp        0      0 0.0.0.0:2024            0.0.0.0:*               LISTEN
tcp        0      0 127.0.0.1:20050         0.0.0.0:*               LISTEN
tcp        0      0 :::20051                :::*                    LISTEN
`;
    expect([...listeningPorts(netstat)]).toEqual([2024, 20050, 20051]);
  });

  test("/proc/net/tcp and tcp6 give the ports in state LISTEN, not those of connections", () => {
    const table = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:4E52 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0
   1: 0200D50A:0050 0300D50A:9C40 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0 20 4 30 10 -1
  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:4E21 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3 1 0 100 0 0 10 0
`;
    expect([...listeningPortsInProcNet(table)]).toEqual([20050, 20001]);
  });
});
