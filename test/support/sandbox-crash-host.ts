/**
 * A throwaway control plane for the crash test: it starts a sandbox, applies a cpu_stress fault through the driver,
 * reports what it did over IPC, then waits to be SIGKILLed, as a control plane that crashes mid-experiment would be.
 */
import { parseExperiment } from '../../shared/model/parse.js';
import { createSandboxDriver } from '../../local/sandbox/driver.js';
import { startSandbox } from '../../local/sandbox/sandbox.js';

export interface CrashHostReport {
  replicaPids: number[];
  intent: unknown;
  applied: unknown;
}

const [experimentId = 'crash-host'] = process.argv.slice(2);
const sandbox = await startSandbox({ replicas: 2 });
const driver = createSandboxDriver(sandbox);
const spec = parseExperiment({
  name: 'crash host',
  chaos_type: 'cpu_stress',
  target: { provider: 'sandbox', labels: { app: 'demo' } },
  parameters: { cpu_cores: 1, cpu_load_percent: 10, duration_seconds: 30 },
  safety: { max_blast_radius: 1 },
});
const signal = new AbortController().signal;
const [target] = await driver.resolve(spec, signal);
if (!target) throw new Error('no sandbox target');
const intent = await driver.prepare(spec, target, signal);
const applied = await driver.apply(spec, intent, { experimentId, rollbackSeq: 1, signal });
const report: CrashHostReport = { replicaPids: sandbox.supervisor.replicas().map((replica) => replica.pid), intent, applied };
// The sandbox's proxy keeps this process alive until the test kills it.
process.send?.(report);
