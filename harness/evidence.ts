/**
 * Observations and evidence. A probe action or lab call returns an
 * Observation: the typed value, and exactly how it was observed. A check turns
 * an observation into Evidence: what was claimed, expected and observed.
 * Failures are built from evidence, never from free text.
 */
export interface Observation<T> {
  readonly value: T;
  /** The exact command or API call that observed it. */
  readonly how: string;
  /** What that command printed, for the report. */
  readonly raw?: string;
}

export interface Evidence {
  readonly claim: string;
  readonly expected: string;
  readonly observed: string;
  readonly how: string;
  readonly raw?: string;
  readonly ok: boolean;
}

/** Thrown by a failed check; carries the evidence that failed. */
export class CheckFailed extends Error {
  override readonly name = "CheckFailed";
  constructor(readonly evidence: Evidence) {
    super(`${evidence.claim}: expected ${evidence.expected}, observed ${evidence.observed}`);
  }
}

/** How values read in evidence: strings bare, lists comma-separated, the rest as JSON. */
export function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (typeof value === "string") return value === "" ? '""' : value;
  if (Array.isArray(value)) return value.length === 0 ? "[]" : `[${value.map(describe).join(", ")}]`;
  return JSON.stringify(value);
}

/** One claim about one observation; records evidence, throws CheckFailed when it does not hold. */
export class Check<T> {
  constructor(
    private readonly claim: string,
    private readonly observation: Observation<T>,
    private readonly record: (evidence: Evidence) => void,
  ) {}

  /** The observed value equals `expected` (deep equality for plain data). */
  is(expected: T): T {
    return this.holds(describe(expected), sameData(this.observation.value, expected));
  }

  isNot(unexpected: T): T {
    return this.holds(`anything but ${describe(unexpected)}`, !sameData(this.observation.value, unexpected));
  }

  isOneOf(expected: readonly T[]): T {
    return this.holds(
      `one of ${describe(expected)}`,
      expected.some((e) => sameData(this.observation.value, e)),
    );
  }

  /** The observed list (or string) contains `item`. */
  includes(item: T extends readonly (infer E)[] ? E : string): T {
    const value: unknown = this.observation.value;
    const ok = Array.isArray(value)
      ? value.some((v) => sameData(v, item))
      : typeof value === "string" && value.includes(String(item));
    return this.holds(`to include ${describe(item)}`, ok);
  }

  excludes(item: T extends readonly (infer E)[] ? E : string): T {
    const value: unknown = this.observation.value;
    const ok = Array.isArray(value)
      ? !value.some((v) => sameData(v, item))
      : !(typeof value === "string" && value.includes(String(item)));
    return this.holds(`not to include ${describe(item)}`, ok);
  }

  matches(pattern: RegExp): T {
    return this.holds(`to match ${pattern}`, pattern.test(describe(this.observation.value)));
  }

  /** A property the caller names in words: `satisfies("inside 172.17.0.0/16", v => ...)`. */
  satisfies(expectation: string, predicate: (value: T) => boolean): T {
    return this.holds(expectation, predicate(this.observation.value));
  }

  private holds(expected: string, ok: boolean): T {
    const { value, how, raw } = this.observation;
    const evidence: Evidence = {
      claim: this.claim,
      expected,
      observed: describe(value),
      how,
      ok,
      ...(raw === undefined ? {} : { raw }),
    };
    this.record(evidence);
    if (!ok) throw new CheckFailed(evidence);
    return value;
  }
}

function sameData(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** A view of an observation: same command and output, a value computed from it. */
export function derive<T, U>(observation: Observation<T>, view: (value: T) => U): Observation<U> {
  return { ...observation, value: view(observation.value) };
}
