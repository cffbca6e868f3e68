import type { ScenarioContext } from "../harness/scenario.js";

/**
 * What a container on a macvlan or ipvlan network with no parent sees when it
 * pings an address beyond its network. The documentation has always called
 * such a network internal (a dummy link, nothing outside). Until moby#47677
 * its containers still got a default route through the unused gateway, so
 * the ping left and went nowhere ("no reply"); since, they get no default
 * route at all and the ping fails at once ("unreachable"). Neither reaches.
 */
export function beyondTheNetwork(since: ScenarioContext["since"]): "unreachable" | "no reply" {
  return since(
    "26.1",
    "moby#47677 (backported to 26.0 as #47705): macvlan/ipvlan with no parent get no default route, like --internal",
  )
    ? "unreachable"
    : "no reply";
}
