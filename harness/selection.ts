import { UsageError } from "./exit-codes.js";
import type { Scenario } from "./scenario.js";

/**
 * Chooses scenarios from words a person types: an id ("UB-01"), an area
 * ("dns"), a tag ("tag:docs-differ" or "@docs-differ"), or a regular
 * expression over id and title ("/^DNS-0[1-3]$/"). A leading "!" excludes.
 * No positive word selects everything.
 */
export function selectScenarios(all: readonly Scenario[], words: readonly string[]): Scenario[] {
  const include: ((s: Scenario) => boolean)[] = [];
  const exclude: ((s: Scenario) => boolean)[] = [];
  for (const word of words.map((w) => w.trim()).filter(Boolean)) {
    const negated = word.startsWith("!");
    (negated ? exclude : include).push(matcher(all, negated ? word.slice(1) : word));
  }
  return all.filter((s) => (include.length === 0 || include.some((m) => m(s))) && !exclude.some((m) => m(s)));
}

function matcher(all: readonly Scenario[], word: string): (s: Scenario) => boolean {
  const regex = /^\/(.*)\/([a-z]*)$/.exec(word);
  if (regex) {
    let pattern: RegExp;
    try {
      pattern = new RegExp(regex[1] ?? "", regex[2]);
    } catch (error) {
      throw new UsageError(`invalid regular expression ${word}: ${(error as Error).message}`);
    }
    return (s) => pattern.test(s.id) || pattern.test(s.title);
  }
  const tag = /^(?:tag:|@)(.+)$/.exec(word)?.[1];
  if (tag !== undefined) {
    if (!all.some((s) => s.tags.includes(tag))) {
      throw new UsageError(`unknown tag "${tag}"${suggest(tag, unique(all.flatMap((s) => [...s.tags])))}`);
    }
    return (s) => s.tags.includes(tag);
  }
  const lower = word.toLowerCase();
  if (all.some((s) => s.id.toLowerCase() === lower)) return (s) => s.id.toLowerCase() === lower;
  if (all.some((s) => s.area === lower)) return (s) => s.area === lower;
  const known = [...all.map((s) => s.id), ...unique(all.map((s) => s.area))];
  throw new UsageError(`unknown scenario or area "${word}"${suggest(word, known)} (see: docknet list)`);
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

/** ", did you mean X or Y?" for the closest known words, or "". */
export function suggest(word: string, known: readonly string[]): string {
  const scored = known
    .map((candidate) => ({ candidate, distance: editDistance(word.toLowerCase(), candidate.toLowerCase()) }))
    .filter(({ candidate, distance }) => distance <= Math.max(2, Math.floor(candidate.length / 3)))
    .sort((a, b) => a.distance - b.distance)
    .slice(0, 3)
    .map(({ candidate }) => candidate);
  return scored.length ? `; did you mean ${scored.join(" or ")}?` : "";
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}
