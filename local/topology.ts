/**
 * What the embedded runtime can target now, as the analysis routes and commands ask it: the topology sources the
 * runtime was given (Kubernetes, AWS), and the sandbox when it has one.
 */
import { readTopology } from '../functions/api/core.js';
import type { JsonObject } from '../shared/journal/activity.js';
import { SANDBOX_PROVIDER } from './defaults.js';
import type { LocalRuntime } from './runtime.js';

/** The sandbox comes with its address once it runs, so proposed experiments can check it answers. */
export async function runtimeTopology(runtime: LocalRuntime, sandboxUrl?: string): Promise<JsonObject> {
  const sandbox = runtime.deps.drivers.has(SANDBOX_PROVIDER) ? { sandbox: { available: true, ...(sandboxUrl ? { url: sandboxUrl } : {}) } } : {};
  return { ...(await readTopology(runtime.topology)), ...sandbox } as JsonObject;
}
