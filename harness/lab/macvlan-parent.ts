import type Docker from "dockerode";
import { runInNetns, type NetnsRef } from "../engine/netns.js";
import { UsageError } from "../exit-codes.js";

/** Linux interface names: at most 15 characters, no slash or whitespace (IFNAMSIZ). */
const INTERFACE_NAME = /^[A-Za-z0-9_.:@-]{1,15}$/;

/** Why `name` cannot be an interface name, or undefined when it can. */
export function interfaceNameProblem(name: string): string | undefined {
  return INTERFACE_NAME.test(name)
    ? undefined
    : `${JSON.stringify(name)} is not an interface name (at most 15 letters, digits and _.:@-)`;
}

/** What `ip -j -d link show` says of a link, as far as docknet reads it. */
interface LinkFacts {
  readonly ifname: string;
  readonly flags?: readonly string[];
  readonly link?: string;
  readonly linkinfo?: { readonly info_kind?: string; readonly info_data?: { readonly mode?: string } };
}

/**
 * Checks the interface named with --macvlan-parent before anything is made
 * on it: it must exist on the engine's host, be up, and not be held by a
 * macvlan in passthru mode (which takes a parent for itself alone). Each
 * problem is one UsageError line.
 */
export async function checkMacvlanParent(
  parent: string,
  docker: Docker,
  engineHostNetns: NetnsRef | undefined,
  whyNoHost: string | undefined,
): Promise<void> {
  const badName = interfaceNameProblem(parent);
  if (badName) throw new UsageError(`--macvlan-parent ${badName}`);
  if (!engineHostNetns) {
    throw new UsageError(
      `--macvlan-parent ${parent}: docknet cannot look at the engine's host to check it (${whyNoHost ?? "not a local engine"})`,
    );
  }
  const links = await readLinks(engineHostNetns);
  const link = links.find((l) => l.ifname === parent);
  if (!link) {
    const names = links.map((l) => l.ifname).filter((n) => n !== "lo");
    const privateHint = engineHostNetns.startsWith("/")
      ? ""
      : "; a private engine has a namespace of its own: name your interface with --engine current";
    throw new UsageError(
      `--macvlan-parent ${parent} does not exist on the engine's host (it has ${names.join(", ") || "only lo"})${privateHint}`,
    );
  }
  if (!link.flags?.includes("UP"))
    throw new UsageError(`--macvlan-parent ${parent} is down: bring it up first (ip link set ${parent} up)`);
  const passthruLink = links.find(
    (l) => l.link === parent && l.linkinfo?.info_kind === "macvlan" && l.linkinfo.info_data?.mode === "passthru",
  );
  if (passthruLink)
    throw new UsageError(
      `--macvlan-parent ${parent} is held in passthru mode by macvlan link ${passthruLink.ifname}: a passthru parent takes nothing else`,
    );
  const networks = await docker.listNetworks({ filters: { driver: ["macvlan"] } });
  const holder = networks.find((n) => n.Options?.["parent"] === parent && n.Options["macvlan_mode"] === "passthru");
  if (holder)
    throw new UsageError(
      `--macvlan-parent ${parent} is held in passthru mode by network ${holder.Name}: a passthru parent takes no other network`,
    );
}

async function readLinks(netns: NetnsRef): Promise<LinkFacts[]> {
  const out = await runInNetns(netns, ["ip", "-j", "-d", "link", "show"], 5000);
  if (out.code !== 0) throw new Error(`cannot list the engine host's interfaces: ${out.stderr.trim()}`);
  return JSON.parse(out.stdout) as LinkFacts[];
}
