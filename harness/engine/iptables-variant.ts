import { existsSync, mkdirSync, readlinkSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { EngineUnavailable } from "../exit-codes.js";
import { findProgram } from "../host-command.js";
import { stateRoot } from "./private-engine.js";

/**
 * Which iptables a private engine's host uses (issue 18's firewall axis). Debian's iptables package
 * ships both: iptables-nft (the default, rules in nftables' tables) and iptables-legacy (the old
 * x_tables), as hosts still running the legacy one have it. dockerd, and every command docknet
 * runs on the engine's host, find `iptables` on PATH: for iptables-legacy, a directory whose
 * iptables, ip6tables and their -save and -restore are xtables-legacy-multi (which acts on the
 * name it is called by) goes first on this process's PATH, and so on every child's.
 */
export const IPTABLES_VARIANTS = ["iptables-nft", "iptables-legacy"] as const;
export type IptablesVariant = (typeof IPTABLES_VARIANTS)[number];

/** What --firewall may ask of a private engine's host: an iptables variant, or firewalld (over iptables-nft). */
export const FIREWALL_CHOICES = [...IPTABLES_VARIANTS, "firewalld"] as const;
export type FirewallChoice = (typeof FIREWALL_CHOICES)[number];

const PROGRAMS = ["iptables", "iptables-save", "iptables-restore", "ip6tables", "ip6tables-save", "ip6tables-restore"];

const legacyDir = () => join(stateRoot(), "iptables-legacy", "bin");

/**
 * The directory of the iptables variant this process uses, when it is not the machine's own: it
 * must come before a dockerd's own directory on that dockerd's PATH (the system's is /usr/sbin,
 * where the machine's own iptables is too).
 */
export function chosenIptablesDir(): string | undefined {
  return (process.env.PATH ?? "").split(":").includes(legacyDir()) ? legacyDir() : undefined;
}

/** Makes `iptables` on this process's PATH the variant asked for; iptables-nft is the machine's own. */
export async function useIptablesVariant(variant: IptablesVariant): Promise<void> {
  if (variant === "iptables-nft") return;
  const legacy = await findProgram("xtables-legacy-multi");
  if (!legacy)
    throw new EngineUnavailable(
      "iptables-legacy is not installed (xtables-legacy-multi): apt-get install -y iptables (Debian's ships both variants)",
    );
  const dir = legacyDir();
  mkdirSync(dir, { recursive: true });
  for (const program of PROGRAMS) {
    const link = join(dir, program);
    if (!existsSync(link)) symlinkSync(legacy, link);
    else if (readlinkSync(link) !== legacy) throw new Error(`${link} is not a link to ${legacy}`);
  }
  const path = process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin";
  if (!path.split(":").includes(dir)) process.env.PATH = `${dir}:${path}`;
}
