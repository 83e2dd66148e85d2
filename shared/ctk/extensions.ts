/**
 * The Chaos Toolkit extension functions (python providers) ChaosDuck runs natively, with its own write-ahead rollback
 * and guardrails: the chaosaws and chaosk8s functions that match its faults and probes. Any other python provider is
 * refused before anything executes: ChaosDuck runs no Python.
 *
 * Each lists its parameters as the extension declares them, so a call is checked as chaoslib checks it (a required
 * argument missing, an argument the function does not take), in chaoslib's words.
 */
export interface NativeFunction {
  kind: 'action' | 'probe';
  /** The ChaosDuck fault an action becomes. */
  chaosType?: 'ec2_stop' | 'rds_failover' | 'pod_delete';
  required: readonly string[];
  optional: readonly string[];
}

export const NATIVE_FUNCTIONS: Readonly<Record<string, NativeFunction>> = {
  'chaosaws.ec2.actions.stop_instances': { kind: 'action', chaosType: 'ec2_stop', required: [], optional: ['instance_ids', 'az', 'filters', 'force'] },
  'chaosaws.rds.actions.failover_db_cluster': { kind: 'action', chaosType: 'rds_failover', required: ['db_cluster_identifier'], optional: ['target_db_instance_identifier'] },
  'chaosaws.rds.actions.reboot_db_instance': { kind: 'action', chaosType: 'rds_failover', required: ['db_instance_identifier'], optional: ['force_failover'] },
  'chaosk8s.pod.actions.terminate_pods': {
    kind: 'action',
    chaosType: 'pod_delete',
    required: [],
    optional: ['label_selector', 'name_pattern', 'all', 'rand', 'mode', 'qty', 'grace_period', 'ns', 'order'],
  },
  'chaosk8s.pod.actions.delete_pods': { kind: 'action', chaosType: 'pod_delete', required: [], optional: ['name', 'ns', 'label_selector'] },
  'chaosk8s.pod.probes.pods_in_phase': { kind: 'probe', required: ['label_selector'], optional: ['phase', 'ns'] },
  'chaosk8s.pod.probes.count_pods': { kind: 'probe', required: ['label_selector'], optional: ['phase', 'ns'] },
};

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Why a python provider cannot run here, at which provider field, in chaoslib's words where it has them; undefined
 * when ChaosDuck runs it. `name` and `type` are the activity's.
 */
export function pythonProviderProblem(provider: Record<string, unknown>, name: string, type: string): { field: string; message: string } | undefined {
  const module = provider.module;
  const func = provider.func;
  if (typeof module !== 'string' || module === '') return { field: 'module', message: 'a Python activity must have a module path' };
  if (typeof func !== 'string' || func === '') return { field: 'func', message: 'a Python activity must have a function name' };
  const native = NATIVE_FUNCTIONS[`${module}.${func}`];
  if (!native) {
    const known = Object.keys(NATIVE_FUNCTIONS).join(', ');
    return {
      field: 'func',
      message: `${type} '${name}' calls the python function ${module}.${func}, which ChaosDuck does not run (it runs no Python; it runs these natively: ${known}); nothing was executed`,
    };
  }
  // A function that injects a fault is an action: as a probe it would change the system unnoticed by the rollback.
  if (native.kind === 'action' && type !== 'action') {
    return { field: 'func', message: `${module}.${func} applies a fault, so it must be declared as an action (activity '${name}' is a ${type})` };
  }
  const args = provider.arguments ?? {};
  if (!isObject(args)) return { field: 'arguments', message: `the arguments of ${type} '${name}' must be a mapping` };
  // chaoslib injects these two itself.
  const given = Object.keys(args).filter((arg) => arg !== 'configuration' && arg !== 'secrets');
  const missing = native.required.find((arg) => !given.includes(arg));
  if (missing) return { field: 'arguments', message: `required argument '${missing}' is missing from activity '${name}'` };
  const unknown = given.find((arg) => !native.required.includes(arg) && !native.optional.includes(arg));
  if (unknown) return { field: `arguments.${unknown}`, message: `argument '${unknown}' is not part of the function signature in activity '${name}'` };
  return undefined;
}
