/** `iptables -S` of one table: each chain's policy, the chains, and the rules. */
export interface Ruleset {
  readonly policies: ReadonlyMap<string, string>;
  readonly chains: ReadonlySet<string>;
  readonly rules: readonly string[];
}

export function parseRuleset(text: string): Ruleset {
  const policies = new Map<string, string>();
  const chains = new Set<string>();
  const rules: string[] = [];
  for (const line of text.split("\n").map((l) => l.trim())) {
    const policy = /^-P (\S+) (\S+)/.exec(line);
    if (policy) {
      policies.set(policy[1]!, policy[2]!);
      chains.add(policy[1]!);
    } else if (line.startsWith("-N ")) chains.add(line.slice(3).trim());
    else if (line.startsWith("-A ")) rules.push(line);
  }
  return { policies, chains, rules };
}
