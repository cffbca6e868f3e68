import type { Scenario } from "../harness/scenario.js";
import compose from "./compose.js";
import connect from "./connect.js";
import daemonConfig from "./daemon-config.js";
import defaultBridge from "./default-bridge.js";
import dns from "./dns.js";
import firewall from "./firewall.js";
import host from "./host.js";
import ipv6 from "./ipv6.js";
import isolation from "./isolation.js";
import ipvlan from "./ipvlan.js";
import links from "./links.js";
import macvlan from "./macvlan.js";
import none from "./none.js";
import options from "./options.js";
import overlay from "./overlay.js";
import publishing from "./publishing.js";
import userBridge from "./user-bridge.js";

/** Every scenario docknet knows, in the order a reader meets them in the docs. */
export const ALL_SCENARIOS: readonly Scenario[] = [
  ...defaultBridge,
  ...userBridge,
  ...dns,
  ...isolation,
  ...publishing,
  ...connect,
  ...options,
  ...host,
  ...ipv6,
  ...none,
  ...links,
  ...macvlan,
  ...ipvlan,
  ...firewall,
  ...daemonConfig,
  ...compose,
  ...overlay,
];
