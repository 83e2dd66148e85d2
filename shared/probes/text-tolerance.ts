/** The `*_contains` / `*_matches` tolerances, shared by HTTP bodies and command output. */
export function textFailures(label: string, text: string, contains: string | undefined, matches: string | undefined): string[] {
  const failures: string[] = [];
  if (contains !== undefined && !text.includes(contains)) failures.push(`${label} does not contain ${JSON.stringify(contains)}`);
  if (matches !== undefined && !new RegExp(matches).test(text)) failures.push(`${label} does not match /${matches}/`);
  return failures;
}
