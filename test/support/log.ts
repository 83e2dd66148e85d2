/**
 * Log lines as a test sees them: the log port's (`captureLog`), and what Powertools writes (`captureOutput`).
 */
import { vi } from 'vitest';
import { setLogSink, type LogFields } from '../../shared/observability/log.js';

export interface LoggedLine {
  level: 'info' | 'warn' | 'error';
  message: string;
  fields?: LogFields;
}

/** The log port's sink replaced by one that keeps each line, until `restore`. */
export function captureLog(): { lines: LoggedLine[]; restore: () => void } {
  const lines: LoggedLine[] = [];
  const keep = (level: LoggedLine['level']) => (message: string, fields?: LogFields) => void lines.push({ level, message, ...(fields ? { fields } : {}) });
  const previous = setLogSink({ info: keep('info'), warn: keep('warn'), error: keep('error') });
  return { lines, restore: () => void setLogSink(previous) };
}

/**
 * What the process writes to stdout and stderr (where Powertools Logger and Metrics write in Lambda), kept from the
 * terminal until `restore`; `json()` is every line that is a JSON object, parsed.
 */
export function captureOutput(): { json: () => Record<string, any>[]; text: () => string; restore: () => void } {
  const chunks: string[] = [];
  const spies = [process.stdout, process.stderr].map((stream) =>
    vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8')) > 0),
  );
  const text = () => chunks.join('');
  return {
    text,
    json: () =>
      text()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, any>),
    restore: () => {
      for (const spy of spies) spy.mockRestore();
    },
  };
}
