/**
 * The Lambda functions as deployed, bundles included: one per catalogue entry, Node.js 22 on arm64 with active
 * tracing and its own log group, the environment each handler reads, and an ESM bundle that leaves the AWS SDK to
 * the runtime and still loads.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FUNCTIONS, FUNCTION_NAMES, type ControlPlaneFunctionName } from '../../infra/function-catalogue.js';
import { type Json, type Synthesized, logicalId, synthControlPlane } from './support.js';

let synth: Synthesized;
beforeAll(() => {
  synth = synthControlPlane({ bundle: true });
}, 120_000);
afterAll(() => synth.dispose());

const fnOf = (name: ControlPlaneFunctionName) => {
  const found = synth.stack.functions.get(name);
  if (!found) throw new Error(`no ${name} function`);
  return found;
};
const resource = (id: string) => synth.template.toJSON().Resources[id] as { Type: string; Properties: Json };
const props = (name: ControlPlaneFunctionName) => resource(logicalId(fnOf(name).function)).Properties;
const bundlePath = (name: ControlPlaneFunctionName) => {
  const key = (props(name).Code as { S3Key: string }).S3Key.replace(/\.zip$/, '');
  return join(synth.outdir, `asset.${key}`, 'index.mjs');
};

/** A path template only @kubernetes/client-node's generated API carries; minifying keeps strings. */
const KUBERNETES_CLIENT_MARKER = '/api/v1/namespaces/{namespace}/pods';
/**
 * The functions that reach a cluster (their handlers import `lambda-kubernetes.ts`): probes (run-probes, observe),
 * faults (inject, observe, rollback), dry runs and topology (api).
 */
const KUBERNETES_FUNCTIONS: readonly ControlPlaneFunctionName[] = ['run-probes', 'inject', 'observe', 'rollback', 'api'];

/** The variables each handler reads at its first invocation (`required(...)` in the lambda-deps and lambda-entry modules). */
const ENVIRONMENT: Record<ControlPlaneFunctionName, string[]> = {
  begin: ['TABLE_NAME', 'EVENT_BUS_NAME'],
  'run-probes': ['TABLE_NAME', 'EVENT_BUS_NAME'],
  'form-hypothesis': ['TABLE_NAME', 'EVENT_BUS_NAME'],
  inject: ['TABLE_NAME', 'EVENT_BUS_NAME'],
  observe: ['TABLE_NAME', 'EVENT_BUS_NAME'],
  rollback: ['TABLE_NAME', 'EVENT_BUS_NAME'],
  finish: ['TABLE_NAME', 'EVENT_BUS_NAME'],
  api: ['TABLE_NAME', 'EVENT_BUS_NAME', 'STATE_MACHINE_ARN', 'CHAOS_TAG_KEY'],
  // ANTHROPIC_SECRET_ARN only when the deployer names a secret (test/infra/analysis.test.ts).
  analysis: ['TABLE_NAME', 'API_FUNCTION_NAME'],
  'emergency-stop': ['TABLE_NAME', 'EVENT_BUS_NAME', 'STATE_MACHINE_ARN'],
  'scheduled-experiment': ['TABLE_NAME', 'EVENT_BUS_NAME', 'STATE_MACHINE_ARN'],
  'recovery-sweep': ['TABLE_NAME', 'EVENT_BUS_NAME', 'STATE_MACHINE_ARN'],
  'ws-connect': ['TABLE_NAME'],
  'ws-disconnect': ['TABLE_NAME'],
  'ws-subscribe': ['TABLE_NAME', 'WS_ENDPOINT'],
  'ws-broadcast': ['TABLE_NAME', 'WS_ENDPOINT'],
};

describe('functions', () => {
  it('deploys exactly one function per catalogue entry, and no others', () => {
    synth.template.resourceCountIs('AWS::Lambda::Function', FUNCTION_NAMES.length);
    expect(FUNCTION_NAMES).toHaveLength(16);
  });

  it.each(FUNCTION_NAMES)('%s runs nodejs22.x on arm64 with active tracing and its own log group with a retention', (name) => {
    const p = props(name);
    expect(p).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'], TracingConfig: { Mode: 'Active' }, Handler: 'index.handler' });
    const logGroupId = (p.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
    expect(logGroupId).toBe(logicalId(fnOf(name).logGroup));
    expect(resource(logGroupId).Properties.RetentionInDays).toBeGreaterThan(0);
    expect(p.Timeout).toBeGreaterThan(3);
    expect(p.MemorySize).toBeGreaterThanOrEqual(256);
  });

  it('gives each function its own log group', () => {
    const groups = FUNCTION_NAMES.map((name) => (props(name).LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref);
    expect(new Set(groups).size).toBe(FUNCTION_NAMES.length);
  });

  it.each(FUNCTION_NAMES)('%s gets the environment its handler reads', (name) => {
    const variables = (props(name).Environment as { Variables: Json }).Variables;
    expect(Object.keys(variables).filter((key) => key !== 'NODE_OPTIONS').sort()).toEqual([...ENVIRONMENT[name]].sort());
  });

  it('points STATE_MACHINE_ARN at the orchestrator and WS_ENDPOINT at the WebSocket stage', () => {
    const orchestrator = logicalId(synth.stack.stateMachines.orchestrator);
    expect((props('api').Environment as { Variables: Json }).Variables.STATE_MACHINE_ARN).toEqual({ Ref: orchestrator });
    const endpoint = JSON.stringify((props('ws-broadcast').Environment as { Variables: Json }).Variables.WS_ENDPOINT);
    expect(endpoint).toContain('"https://"');
    expect(endpoint).toContain(logicalId(synth.stack.webSocket.api));
  });

  it('dead-letters failed asynchronous invocations of the EventBridge targets only', () => {
    const queue = { 'Fn::GetAtt': [logicalId(synth.stack.bus.deadLetterQueue), 'Arn'] };
    for (const name of FUNCTION_NAMES) {
      const deadLetter = props(name).DeadLetterConfig;
      if (FUNCTIONS[name].invokedBy === 'event-rule') expect(deadLetter).toEqual({ TargetArn: queue });
      else expect(deadLetter).toBeUndefined();
    }
  });
});

describe('bundles', () => {
  it.each(FUNCTION_NAMES)('%s is a minified ESM bundle that imports the AWS SDK instead of containing it', (name) => {
    const code = readFileSync(bundlePath(name), 'utf8');
    // Minified: every handler reads its environment through a `required(name)` helper, whose message survives
    // and whose name does not.
    expect(code).toContain('environment variable ');
    expect(code).not.toMatch(/function required\(/);
    expect(code).toMatch(/from"@aws-sdk\/client-dynamodb"/);
    // Strings only the SDK's own code carries (service target prefixes): present if a client were bundled.
    for (const marker of ['DynamoDB_20120810', 'AWSEvents', 'AWSStepFunctions']) expect(code).not.toContain(marker);
    // whatwg-url is bundled as Node's own URL (BUNDLE_ALIASES): its tr46 would load the deprecated punycode module at
    // cold start, a DeprecationWarning in the function's logs.
    expect(code).not.toContain('"punycode"');
    // The budgets of BENCHMARKS.md: 250 KB; 2 MB for the functions that talk to Kubernetes and so carry its client;
    // 600 KB for the analysis function, which carries the Anthropic SDK.
    const carriesKubernetes = code.includes(KUBERNETES_CLIENT_MARKER);
    expect(carriesKubernetes).toBe(KUBERNETES_FUNCTIONS.includes(name));
    expect(statSync(bundlePath(name)).size).toBeLessThanOrEqual(carriesKubernetes ? 2_000_000 : name === 'analysis' ? 600_000 : 250_000);
    // A source map for stack traces, with positions only (the sources would double the asset).
    const map = JSON.parse(readFileSync(`${bundlePath(name)}.map`, 'utf8')) as Json;
    expect(map.sourcesContent).toBeUndefined();
  });

  it('every bundle loads as an ES module and exports a handler, with the SDK resolved as the runtime provides it', () => {
    // A directory like /var/task whose node_modules stands in for the runtime's SDK; Node's own ESM loader imports
    // each bundle, so module-level code (e.g. CommonJS dependencies calling require) runs as it will at cold start.
    const task = join(synth.outdir, 'task');
    mkdirSync(task);
    symlinkSync(resolve('node_modules'), join(task, 'node_modules'), 'dir');
    const files = FUNCTION_NAMES.map((name) => {
      const file = join(task, `${name}.mjs`);
      copyFileSync(bundlePath(name), file);
      return pathToFileURL(file).href;
    });
    const script = `const out = {}; for (const f of ${JSON.stringify(files)}) out[f] = typeof (await import(f)).handler; console.log(JSON.stringify(out));`;
    const loaded = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })) as Json;
    expect(Object.values(loaded)).toEqual(files.map(() => 'function'));
    expect(existsSync(join(task, 'node_modules', '@aws-sdk', 'client-dynamodb'))).toBe(true);
  });
});
