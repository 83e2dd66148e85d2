/**
 * The code that runs in Lambda (functions/, shared/) writes its log lines through the log port, never the console:
 * a `console.*` line there would reach CloudWatch as plain text, without the experiment's keys. Only the port's
 * console sink, which the embedded runtime uses, writes to the console.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../../..');
const CONSOLE_SINK = 'shared/observability/log.ts';

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

describe('console use in Lambda code', () => {
  it('is left to the log port: no console.* call in functions/ or shared/ but its console sink', () => {
    const files = [...sources('functions'), ...sources('shared')];
    expect(files).toContain(CONSOLE_SINK);

    const calls = files
      .filter((file) => file !== CONSOLE_SINK)
      .flatMap((file) =>
        readFileSync(join(ROOT, file), 'utf8')
          .split('\n')
          .flatMap((line, index) => (/\bconsole\s*\.\s*(log|info|warn|error|debug|trace|dir|table)\b/.test(line) ? [`${file}:${index + 1}: ${line.trim()}`] : [])),
      );

    expect(calls).toEqual([]);
  });
});
