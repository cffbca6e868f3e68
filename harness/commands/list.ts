import { ExitCode } from "../exit-codes.js";

/** Words that select scenarios, from positional words and --area/--tag/--grep. */
export function selectionWords(words: string[], options: { area?: string[]; tag?: string[]; grep?: string }): string[] {
  return [
    ...words,
    ...(options.area ?? []),
    ...(options.tag ?? []).map((t) => `tag:${t}`),
    ...(options.grep ? [`/${options.grep}/`] : []),
  ];
}

/**
 * The scenarios chosen by the words. Scenarios, the lab and testcontainers load
 * only for the commands that use them: `doctor` and `--help` start in a fraction
 * of the time.
 */
export async function chosenScenarios(words: string[], flags: { area?: string[]; tag?: string[]; grep?: string }) {
  const [{ ALL_SCENARIOS }, { selectScenarios }] = await Promise.all([
    import("../../scenarios/index.js"),
    import("../selection.js"),
  ]);
  return selectScenarios(ALL_SCENARIOS, selectionWords(words, flags));
}

export async function listCommand(
  words: string[],
  flags: { area?: string[]; tag?: string[]; grep?: string; json?: boolean },
): Promise<number> {
  const scenarios = await chosenScenarios(words, flags);
  if (flags.json) {
    const rows = scenarios.map((s) => ({
      id: s.id,
      title: s.title,
      area: s.area,
      doc: s.doc,
      tags: s.tags,
      requires: s.requires.map((r) => r.name),
      exclusive: Boolean(s.exclusive),
    }));
    const { scenariosJson } = await import("../../reports/json.js");
    process.stdout.write(scenariosJson(rows));
    return ExitCode.ok;
  }
  for (const s of scenarios) {
    const requires = s.requires.length ? `  [needs: ${s.requires.map((r) => r.name).join(", ")}]` : "";
    const alone = s.exclusive ? "  [runs alone]" : "";
    process.stdout.write(
      `${s.id.padEnd(8)} ${s.area.padEnd(15)} ${s.title}\n${" ".repeat(25)}doc: ${s.doc}${requires}${alone}\n`,
    );
  }
  process.stderr.write(`${scenarios.length} scenario(s)\n`);
  return ExitCode.ok;
}
