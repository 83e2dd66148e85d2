/**
 * The control plane's log lines, through one small port, so the cores never name a logging library: in Lambda the
 * entry points send them to Powertools Logger as structured JSON (`shared/observability/lambda.ts`), carrying the
 * invocation's keys (experiment id, phase, execution); in the embedded runtime they go to the console as before.
 *
 * The sink is process-wide, as the console is: a Lambda container runs one function, and the local runtime one
 * process, so the entry point picks it once instead of every dependency list carrying it.
 *
 * @example
 * log.error(`emergency stop: ${error.message}`, { key: error.key });
 */

/** Extra fields of a line: named keys in CloudWatch Logs Insights. An Error under `error` keeps its name and stack. */
export type LogFields = Record<string, unknown>;

export interface Log {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

/**
 * The embedded runtime's sink: the message on the console, as a person reads it, and an Error under `error` after it
 * (its stack). The other fields are for structured sinks; each message already says what they hold.
 */
export const consoleLog: Log = {
  info: (message, fields) => console.log(message, ...errorOf(fields)),
  warn: (message, fields) => console.warn(message, ...errorOf(fields)),
  error: (message, fields) => console.error(message, ...errorOf(fields)),
};

const errorOf = (fields: LogFields | undefined): unknown[] => (fields?.error instanceof Error ? [fields.error] : []);

let sink: Log = consoleLog;

/** Sends this process's log lines to `next` (a Lambda entry point does, once); returns the sink it replaces. */
export function setLogSink(next: Log): Log {
  const previous = sink;
  sink = next;
  return previous;
}

/** Where the cores write their log lines. */
export const log: Log = {
  info: (message, fields) => sink.info(message, fields),
  warn: (message, fields) => sink.warn(message, fields),
  error: (message, fields) => sink.error(message, fields),
};
