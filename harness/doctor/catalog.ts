import type { DoctorCheck } from "./check.js";
import { addressingChecks } from "./checks/addressing.js";
import { containerChecks } from "./checks/containers.js";
import { daemonChecks } from "./checks/daemon.js";
import { dnsChecks } from "./checks/dns.js";
import { environmentChecks } from "./checks/environment.js";
import { firewallChecks } from "./checks/firewall.js";
import { forwardingChecks } from "./checks/forwarding.js";
import { ipv6Checks } from "./checks/ipv6.js";
import { kernelChecks } from "./checks/kernel.js";
import { mtuChecks } from "./checks/mtu.js";
import { swarmChecks } from "./checks/swarm.js";

/** Every check, in the order a person reads a diagnosis: can it route, filter, address, resolve; then hardening. */
export const ALL_CHECKS: readonly DoctorCheck[] = [
  ...environmentChecks,
  ...forwardingChecks,
  ...firewallChecks,
  ...addressingChecks,
  ...mtuChecks,
  ...dnsChecks,
  ...daemonChecks,
  ...ipv6Checks,
  ...kernelChecks,
  ...containerChecks,
  ...swarmChecks,
];
