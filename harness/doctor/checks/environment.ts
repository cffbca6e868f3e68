import { finding, ok, type DoctorCheck } from "../check.js";

export const environmentChecks: readonly DoctorCheck[] = [
  {
    id: "D-ENG-01",
    title: "The doctor can see the engine's host",
    why: "Much of what breaks container networking lives on the engine's host (sysctls, firewall, routes, kernel); from a remote client or without root those checks cannot run and are reported skipped, never passed.",
    fix: "run docknet doctor as root on the engine's host",
    reference: "docknet design: Where it looks",
    evaluate(facts) {
      if (facts.vantageKind === "local") return ok(`host read from ${facts.vantage}`);
      return finding("info", [
        facts.vantageKind === "helper"
          ? `host read through ${facts.vantage}: checks needing the host's own tools may be skipped`
          : `no view of the host: ${facts.vantage}`,
      ]);
    },
  },
  {
    id: "D-RL-01",
    title: "Rootless engine limits are known",
    why: "A rootless engine runs its networking through slirp4netns or pasta: no ping without ping_group_range, --network host is not the host's, container addresses are not reachable from the host, and the client's source address can be lost.",
    fix: 'see docs: Rootless mode, Known limitations; sysctl net.ipv4.ping_group_range="0 2147483647"',
    reference: "docs: Rootless mode; dockerd-rootless.sh",
    evaluate(facts) {
      const info = facts.info();
      const rootless = (info.SecurityOptions ?? []).some((o) => o.includes("name=rootless"));
      const desktop = /Docker Desktop/i.test(info.OperatingSystem ?? "");
      if (rootless) return finding("info", ["SecurityOptions: name=rootless"]);
      return desktop
        ? finding("info", [
            `${info.OperatingSystem}: containers run in a VM; host checks describe the VM, not this machine`,
          ])
        : ok("rootful engine");
    },
  },
];
