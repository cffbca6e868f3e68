import type { LabFault } from "../../harness/lab/faults.js";

/**
 * For every scenario, a deliberately broken setup that it must notice. The
 * same scenarios pass on a healthy engine (conformance.test.ts); here each one
 * must fail, with evidence that names what it observed. Faults that need a
 * differently configured daemon are proven through the CLI (cli.test.ts).
 */
export const BROKEN_BY: Record<string, LabFault | { daemonConfig: Record<string, unknown> }> = {
  "DB-01": "default-bridge-is-user-network",
  "DB-02": { daemonConfig: { icc: false } },
  "DB-05": { daemonConfig: { "ip-masq": false } },
  "DB-03": "default-bridge-is-user-network",
  "DB-04": "default-bridge-is-user-network",
  "DB-06": "default-bridge-is-user-network",
  "DB-07": "default-bridge-is-user-network",
  "UB-01": "user-networks-icc-off",
  "UB-03": "detach-after-start",
  "DNS-01": "user-network-is-default-bridge",
  "DNS-02": "user-network-is-default-bridge",
  "DNS-03": "detach-after-start",
  "DNS-09": "extra-hosts-dropped",
  "DNS-10": "user-network-is-default-bridge",
  "ISO-01": "user-network-is-default-bridge",
  "ISO-02": "user-network-is-default-bridge",
  "ISO-03": "network-options-ignored",
  "ISO-05": "network-options-ignored",
  "PP-01": "host-ports-taken",
  "PP-02": "publish-dropped",
  "PP-03": "host-ports-taken",
  "PP-04": "publish-dropped",
  "PP-05": "publish-host-ip-ignored",
  "PP-07": "servers-down",
  "CD-01": "detach-after-start",
  "CD-03": "network-options-ignored",
  "CD-04": "host-network-is-default-bridge",
  "CD-05": "publish-dropped",
  "OPT-01": "network-options-ignored",
  "OPT-03": "network-options-ignored",
  "OPT-05": "network-options-ignored",
  "OPT-07": "network-options-ignored",
  "HOST-01": "host-network-is-default-bridge",
  "HOST-02": "host-network-is-default-bridge",
  "HOST-03": "host-network-is-default-bridge",
  "HOST-04": "extra-hosts-dropped",
  "HOST-05": "servers-down",
  "V6-02": "network-options-ignored",
  "NONE-01": "none-network-is-default-bridge",
  "LK-01": "links-dropped",
  "LK-02": "links-dropped",
  "LK-03": "links-dropped",
  "LK-06": "links-dropped",
  "LK-07": "links-dropped",
};
