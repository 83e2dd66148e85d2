/**
 * Least privilege as deployed: fault actions only for the functions that apply and revert faults, only on resources
 * carrying the chaos tag the deployer chose; wildcard resources only where AWS offers nothing narrower; and no
 * function holding a permission the catalogue did not give it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FUNCTION_NAMES, type ControlPlaneFunctionName } from '../../infra/function-catalogue.js';
import { type PolicyStatementJson, type Synthesized, actionsOf, logicalId, resourcesOf, statementsOfRole, synthControlPlane } from './support.js';

const FAULT_ACTIONS = [
  'ec2:StopInstances',
  'ec2:StartInstances',
  'ec2:ReplaceRouteTableAssociation',
  'ec2:CreateRoute',
  'ec2:DeleteRoute',
  'ec2:ReplaceRoute',
  'rds:FailoverDBCluster',
  'rds:RebootDBInstance',
];

let synth: Synthesized;
let custom: Synthesized;
beforeAll(() => {
  synth = synthControlPlane();
  custom = synthControlPlane({ props: { chaosTargetTagKey: 'team:chaos-ok' } });
});
afterAll(() => {
  synth.dispose();
  custom.dispose();
});

const fnOf = (s: Synthesized, name: ControlPlaneFunctionName) => {
  const fn = s.stack.functions.get(name);
  if (!fn) throw new Error(`no ${name} function`);
  return fn;
};
const statementsOf = (s: Synthesized, name: ControlPlaneFunctionName): PolicyStatementJson[] => statementsOfRole(s.template, logicalId(fnOf(s, name).role));
const isWildcard = (statement: PolicyStatementJson) => resourcesOf(statement).includes('*');

describe('fault actions', () => {
  it('are granted to inject and rollback only', () => {
    const holders = FUNCTION_NAMES.filter((name) => statementsOf(synth, name).some((s) => actionsOf(s).some((a) => a.startsWith('ec2:') || a.startsWith('rds:'))));
    expect(holders).toEqual(['inject', 'rollback']);
  });

  it.each(['inject', 'rollback'] as const)('%s may change only resources tagged chaosduck:target=true', (name) => {
    const changing = statementsOf(synth, name).filter((s) => actionsOf(s).some((a) => FAULT_ACTIONS.includes(a)));
    expect(changing.flatMap(actionsOf).sort()).toEqual([...FAULT_ACTIONS].sort());
    for (const statement of changing) {
      expect(statement.Condition).toEqual({ StringEquals: { 'aws:ResourceTag/chaosduck:target': 'true' } });
      expect(isWildcard(statement)).toBe(false);
    }
  });

  it('use the tag key the deployer chose', () => {
    const changing = statementsOf(custom, 'inject').filter((s) => actionsOf(s).includes('ec2:StopInstances'));
    expect(changing[0]?.Condition).toEqual({ StringEquals: { 'aws:ResourceTag/team:chaos-ok': 'true' } });
  });

  it('leave only Describe actions on every resource', () => {
    const wildcard = statementsOf(synth, 'inject').filter((s) => isWildcard(s) && actionsOf(s).some((a) => a.startsWith('ec2:') || a.startsWith('rds:')));
    expect(wildcard.flatMap(actionsOf).every((action) => /^(ec2|rds):Describe/.test(action))).toBe(true);
    expect(wildcard[0]?.Condition).toBeUndefined();
  });
});

describe('wildcards', () => {
  it('a function role has `*` resources only for X-Ray and the fault Describe actions', () => {
    for (const name of FUNCTION_NAMES) {
      const actions = statementsOf(synth, name).filter(isWildcard).flatMap(actionsOf);
      expect(actions.filter((a) => !a.startsWith('xray:') && !/^(ec2|rds):Describe/.test(a))).toEqual([]);
    }
  });

  it('a state machine role has `*` resources only for log delivery and X-Ray', () => {
    for (const [, machine] of synth.stack.stateMachines.machines) {
      const roleId = logicalId(machine.role);
      const actions = statementsOfRole(synth.template, roleId).filter(isWildcard).flatMap(actionsOf);
      expect(actions.length).toBeGreaterThan(0);
      expect(actions.filter((a) => !a.startsWith('xray:') && !a.startsWith('logs:'))).toEqual([]);
    }
  });

  it('no function has a wildcard action', () => {
    for (const name of FUNCTION_NAMES) expect(statementsOf(synth, name).flatMap(actionsOf).filter((a) => a.includes('*'))).toEqual([]);
  });
});

describe('least privilege per function', () => {
  const services = (name: ControlPlaneFunctionName) =>
    [...new Set(statementsOf(synth, name).flatMap(actionsOf).map((action) => action.split(':')[0]))].sort();

  it('gives each function only the services it calls', () => {
    const lifecycle = ['dynamodb', 'events', 'logs', 'xray'];
    expect(services('begin')).toEqual(lifecycle);
    expect(services('observe')).toEqual(lifecycle);
    expect(services('inject')).toEqual(['dynamodb', 'ec2', 'events', 'logs', 'rds', 'xray']);
    expect(services('api')).toEqual(['dynamodb', 'events', 'logs', 'states', 'xray']);
    expect(services('emergency-stop')).toEqual(['dynamodb', 'logs', 'sqs', 'states', 'xray']);
    expect(services('ws-connect')).toEqual(['dynamodb', 'logs', 'xray']);
    expect(services('ws-broadcast')).toEqual(['dynamodb', 'execute-api', 'logs', 'sqs', 'xray']);
  });

  it('lets ws-broadcast receive from the progress queue only, and no other function touch that queue', () => {
    const queue = { 'Fn::GetAtt': [logicalId(synth.stack.progressQueue.queue), 'Arn'] };
    const sqs = (name: ControlPlaneFunctionName) => statementsOf(synth, name).filter((s) => actionsOf(s).some((a) => a.startsWith('sqs:')));
    expect(sqs('ws-broadcast')).toEqual([
      {
        Effect: 'Allow',
        Action: ['sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueUrl', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'],
        Resource: queue,
      },
    ]);
    for (const name of FUNCTION_NAMES.filter((n) => n !== 'ws-broadcast')) {
      const statements = sqs(name);
      expect(JSON.stringify(statements), name).not.toContain(logicalId(synth.stack.progressQueue.queue));
      expect(JSON.stringify(statements), name).not.toContain(logicalId(synth.stack.progressQueue.deadLetterQueue));
      // The asynchronously invoked functions may only send their failed invocations to the bus's dead-letter queue.
      expect(statements.flatMap(actionsOf).filter((a) => a !== 'sqs:SendMessage'), name).toEqual([]);
    }
  });

  it('starts and stops experiments only where the catalogue says so', () => {
    const states = (name: ControlPlaneFunctionName) =>
      statementsOf(synth, name)
        .flatMap(actionsOf)
        .filter((a) => a.startsWith('states:'))
        .sort();
    expect(states('api')).toEqual(['states:StartExecution', 'states:StopExecution']);
    expect(states('emergency-stop')).toEqual(['states:StartExecution', 'states:StopExecution']);
    expect(states('recovery-sweep')).toEqual(['states:DescribeExecution', 'states:StartExecution']);
  });

  it('never scans or deletes the table, and writes its own log group only', () => {
    for (const name of FUNCTION_NAMES) {
      const statements = statementsOf(synth, name);
      const actions = statements.flatMap(actionsOf);
      expect(actions).not.toContain('dynamodb:Scan');
      expect(actions).not.toContain('dynamodb:DeleteTable');
      const logs = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('logs:')));
      expect(logs.flatMap(resourcesOf)).toEqual([{ 'Fn::GetAtt': [logicalId(fnOf(synth, name).logGroup), 'Arn'] }]);
    }
  });

  it('attaches no managed policy to any function role', () => {
    for (const [, fn] of synth.stack.functions) {
      const role = synth.template.toJSON().Resources[logicalId(fn.role)];
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    }
  });
});
