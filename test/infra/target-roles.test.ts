/**
 * Cross-account targets: sts:AssumeRole for the functions that call AWS, on exactly the role ARNs the deployer
 * allows, and on nothing at all when the deployer allows none. A role name pattern's cdk-nag finding is acknowledged
 * on the policy that holds it, and nothing else is left.
 */
import { App } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stackPropsFromContext, CONTEXT_KEYS } from '../../infra/context.js';
import { FUNCTION_NAMES, type ControlPlaneFunctionName } from '../../infra/function-catalogue.js';
import { nagPacks } from '../../infra/nag.js';
import { type Synthesized, actionsOf, logicalId, resourcesOf, statementsOfRole, synthControlPlane } from './support.js';

const ROLES = ['arn:aws:iam::111122223333:role/chaosduck-target', 'arn:aws:iam::444455556666:role/chaos/*'];

let plain: Synthesized;
let granted: Synthesized;
beforeAll(() => {
  plain = synthControlPlane();
  granted = synthControlPlane({ props: { targetRoleArns: ROLES } });
});
afterAll(() => {
  plain.dispose();
  granted.dispose();
});

const assumeRole = (s: Synthesized, name: ControlPlaneFunctionName) => {
  const fn = s.stack.functions.get(name);
  if (!fn) throw new Error(`no ${name}`);
  return statementsOfRole(s.template, logicalId(fn.role)).filter((st) => actionsOf(st).some((a) => a.startsWith('sts:')));
};

describe('sts:AssumeRole for target roles', () => {
  it('is granted to no function without chaosduck:targetRoleArns', () => {
    for (const name of FUNCTION_NAMES) expect(assumeRole(plain, name), name).toEqual([]);
  });

  it('is granted to inject, observe, rollback, run-probes and api, on exactly the allowed ARNs', () => {
    const holders = FUNCTION_NAMES.filter((name) => assumeRole(granted, name).length > 0);
    expect(holders.sort()).toEqual(['api', 'inject', 'observe', 'rollback', 'run-probes']);
    for (const name of holders) {
      expect(assumeRole(granted, name)).toEqual([{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: ROLES }]);
      expect(resourcesOf(assumeRole(granted, name)[0]!)).toEqual(ROLES);
    }
  });

  it('leaves cdk-nag with nothing unacknowledged, the pattern acknowledged on its own policy', () => {
    const left = nagPacks(granted.app).flatMap((pack) => pack.validateScope(granted.app).violations);
    expect(left.filter((v) => v.severity === 'error' || v.severity === 'warning').map((v) => v.ruleName)).toEqual([]);
  });

  it('refuses an ARN that is not a role, or has * outside the role name', () => {
    for (const bad of ['arn:aws:iam::*:role/x', 'arn:aws:iam::111122223333:user/x', 'arn:aws:iam::111122223333:role/*/x', '*']) {
      expect(() => synthControlPlane({ props: { targetRoleArns: [bad] } }), bad).toThrow(/not an IAM role ARN/);
    }
  });
});

describe('context chaosduck:targetRoleArns and chaosduck:gameDaysFile', () => {
  const propsFor = (context: Record<string, unknown>) => stackPropsFromContext(new App({ context }));

  it('takes a JSON list (cdk.json) or a comma-separated string (-c)', () => {
    expect(propsFor({ [CONTEXT_KEYS.targetRoleArns]: ROLES }).targetRoleArns).toEqual(ROLES);
    expect(propsFor({ [CONTEXT_KEYS.targetRoleArns]: ROLES.join(', ') }).targetRoleArns).toEqual(ROLES);
    expect(propsFor({ [CONTEXT_KEYS.targetRoleArns]: JSON.stringify(ROLES) }).targetRoleArns).toEqual(ROLES);
    expect(propsFor({ [CONTEXT_KEYS.gameDaysFile]: 'game-days.yaml' }).gameDaysFile).toBe('game-days.yaml');
  });

  it('refuses a list of something else', () => {
    expect(() => propsFor({ [CONTEXT_KEYS.targetRoleArns]: [42] })).toThrow();
    expect(() => propsFor({ [CONTEXT_KEYS.targetRoleArns]: 'arn:aws:iam::1:role/x' })).toThrow(/not an IAM role ARN/);
    expect(() => propsFor({ [CONTEXT_KEYS.gameDaysFile]: '' })).toThrow();
  });
});
