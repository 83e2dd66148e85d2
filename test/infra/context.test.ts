/**
 * Deployer choices from CDK context: read into stack props, with a wrong value failing the synth rather than
 * deploying a default.
 */
import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { CONTEXT_KEYS, stackPropsFromContext } from '../../infra/context.js';

const propsFor = (context: Record<string, unknown>) => stackPropsFromContext(new App({ context }));

describe('stack props from context', () => {
  it('leaves every choice to the stack defaults when nothing is set', () => {
    expect(propsFor({})).toEqual({
      chaosTargetTagKey: undefined,
      guardrails: { maxTimeoutSeconds: undefined, productionPattern: undefined },
      apiGatewayAccountLogging: undefined,
      includeExecutionData: undefined,
    });
  });

  it('accepts values from cdk.json (JSON) and from -c (strings)', () => {
    expect(
      propsFor({
        [CONTEXT_KEYS.chaosTargetTagKey]: 'team:chaos',
        [CONTEXT_KEYS.maxTimeoutSeconds]: '7200',
        [CONTEXT_KEYS.productionPattern]: 'live|prd',
        [CONTEXT_KEYS.apiGatewayAccountLogging]: 'false',
        [CONTEXT_KEYS.includeExecutionData]: true,
      }),
    ).toEqual({
      chaosTargetTagKey: 'team:chaos',
      guardrails: { maxTimeoutSeconds: 7200, productionPattern: 'live|prd' },
      apiGatewayAccountLogging: false,
      includeExecutionData: true,
    });
  });

  it.each([
    [CONTEXT_KEYS.maxTimeoutSeconds, '1h'],
    [CONTEXT_KEYS.maxTimeoutSeconds, 0],
    [CONTEXT_KEYS.productionPattern, '(unclosed'],
    [CONTEXT_KEYS.apiGatewayAccountLogging, 'yes'],
    [CONTEXT_KEYS.chaosTargetTagKey, ''],
  ])('refuses %s = %j', (key, value) => {
    expect(() => propsFor({ [key]: value })).toThrow();
  });
});
