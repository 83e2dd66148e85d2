/**
 * The analysis function in AWS: behind /api/analysis/* with IAM, reading the Anthropic key from the one secret the
 * deployer names (nothing without one), and asking the API function for dry runs and the topology.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stackPropsFromContext } from '../../infra/context.js';
import { App } from 'aws-cdk-lib';
import { type Json, type Synthesized, actionsOf, logicalId, resourcesOf, statementsOfRole, synthControlPlane } from './support.js';

const SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:chaosduck/anthropic-AbC123';

let plain: Synthesized;
let withKey: Synthesized;
beforeAll(() => {
  plain = synthControlPlane();
  withKey = synthControlPlane({ props: { anthropicSecretArn: SECRET } });
});
afterAll(() => {
  plain.dispose();
  withKey.dispose();
});

const analysis = (s: Synthesized) => {
  const fn = s.stack.functions.get('analysis');
  if (!fn) throw new Error('no analysis function');
  return fn;
};
const statements = (s: Synthesized) => statementsOfRole(s.template, logicalId(analysis(s).role));
const environment = (s: Synthesized) =>
  (s.template.toJSON().Resources[logicalId(analysis(s).function)] as { Properties: { Environment: { Variables: Json } } }).Properties.Environment.Variables;

describe('the analysis function', () => {
  it('may invoke the API function itself, unqualified, and nothing else', () => {
    const invoking = statements(plain).filter((s) => actionsOf(s).includes('lambda:InvokeFunction'));

    expect(invoking).toHaveLength(1);
    expect(JSON.stringify(resourcesOf(invoking[0]!))).toContain(logicalId(plain.stack.functions.get('api')!.function));
    expect(JSON.stringify(resourcesOf(invoking[0]!))).not.toContain(':*');
    expect(JSON.stringify(environment(plain).API_FUNCTION_NAME)).toContain(logicalId(plain.stack.functions.get('api')!.function));
  });

  it('reads no secret without one named, and answers offline', () => {
    expect(statements(plain).flatMap(actionsOf).filter((a) => a.startsWith('secretsmanager:'))).toEqual([]);
    expect(environment(plain).ANTHROPIC_SECRET_ARN).toBeUndefined();
  });

  it('reads exactly the secret the deployer names', () => {
    const reading = statements(withKey).filter((s) => actionsOf(s).some((a) => a.startsWith('secretsmanager:')));

    expect(reading).toHaveLength(1);
    expect(actionsOf(reading[0]!).sort()).toEqual(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']);
    expect(resourcesOf(reading[0]!)).toEqual([SECRET]);
    expect(environment(withKey).ANTHROPIC_SECRET_ARN).toBe(SECRET);
    // No other function may read it.
    for (const [name, fn] of withKey.stack.functions) {
      if (name === 'analysis') continue;
      expect(JSON.stringify(statementsOfRole(withKey.template, logicalId(fn.role)))).not.toContain('secretsmanager');
    }
  });

  it('lets the HYPOTHESIS task ask it for Claude\'s prediction only where there is a key', () => {
    const formHypothesis = (s: Synthesized) => s.stack.functions.get('form-hypothesis')!;
    const variables = (s: Synthesized) =>
      (s.template.toJSON().Resources[logicalId(formHypothesis(s).function)] as { Properties: { Environment: { Variables: Json } } }).Properties.Environment.Variables;
    const invoking = (s: Synthesized) => statementsOfRole(s.template, logicalId(formHypothesis(s).role)).filter((st) => actionsOf(st).includes('lambda:InvokeFunction'));

    expect(variables(plain).ANALYSIS_FUNCTION_NAME).toBeUndefined();
    expect(invoking(plain)).toEqual([]);
    // By its fixed name: a reference would close a cycle through the state machines.
    expect(variables(withKey).ANALYSIS_FUNCTION_NAME).toBe('ChaosDuck-analysis');
    expect((withKey.template.toJSON().Resources[logicalId(analysis(withKey).function)] as { Properties: Json }).Properties.FunctionName).toBe('ChaosDuck-analysis');
    expect(invoking(withKey)).toHaveLength(1);
    expect(JSON.stringify(resourcesOf(invoking(withKey)[0]!))).toContain(':function:ChaosDuck-analysis');
  });

  it('refuses a secret ARN that is not complete, from the context too, naming what to give', () => {
    expect(() => synthControlPlane({ props: { anthropicSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:chaosduck/anthropic' } })).toThrow(
      /anthropicSecretArn: .* is not the complete ARN of a Secrets Manager secret/,
    );
    const app = new App({ context: { 'chaosduck:anthropicSecretArn': 'anthropic-key' } });
    expect(() => stackPropsFromContext(app)).toThrow(/context chaosduck:anthropicSecretArn: anthropic-key is not the complete ARN/);
    expect(stackPropsFromContext(new App({ context: { 'chaosduck:anthropicSecretArn': SECRET } })).anthropicSecretArn).toBe(SECRET);
  });
});
