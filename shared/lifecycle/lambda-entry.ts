/**
 * Small pieces every Lambda entry point uses, kept apart from the dependency builders so that a function importing
 * them bundles nothing else (the WebSocket functions need neither the lifecycle stores nor the AWS fault driver).
 */

/** Reads a required environment variable, failing fast and by name. */
export function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}

/**
 * A Lambda entry point whose handler (and the clients it holds) is built on the first invocation and kept for the
 * container: importing the module stays free of side effects, and a missing variable fails the first call, loudly.
 */
export function builtOnFirstCall<E, C, R>(build: () => (event: E, context: C) => R): (event: E, context: C) => R {
  let handler: ((event: E, context: C) => R) | undefined;
  return (event, context) => (handler ??= build())(event, context);
}
