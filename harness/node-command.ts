/**
 * How docknet starts node for a program of its own (the stub DNS server, a
 * child run). Usually this very node; in a bundle shipped to another host
 * (engine/runtime-bundle.ts) node runs through the bundle's own loader, and
 * process.execPath names that loader, so the bundle says how in NODE_COMMAND_ENV.
 */
export const NODE_COMMAND_ENV = "DOCKNET_NODE_COMMAND";

export function nodeCommand(): string[] {
  const given = process.env[NODE_COMMAND_ENV];
  if (given) {
    const parsed: unknown = JSON.parse(given);
    if (Array.isArray(parsed) && parsed.length > 0 && parsed.every((part) => typeof part === "string"))
      return parsed as string[];
  }
  return [process.execPath];
}
