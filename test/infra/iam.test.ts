/**
 * Least privilege as deployed: fault actions only for the functions that apply and revert faults, only on resources
 * carrying the chaos tag the deployer chose; wildcard resources only where AWS offers nothing narrower; and no
 * function holding a permission the catalogue did not give it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FUNCTION_NAMES, type ControlPlaneFunctionName } from '../../infra/function-catalogue.js';
import { type PolicyStatementJson, type Synthesized, actionsOf, logicalId, resourcesOf, statementsOfRole, synthControlPlane } from './support.js';

/** The actions that change a deployer's resources, each allowed only on the chaos-tagged ones. */
const TAGGED_FAULT_ACTIONS = [
  'ec2:StopInstances',
  'ec2:StartInstances',
  'rds:FailoverDBCluster',
  'rds:RebootDBInstance',
  'ec2:CreateNetworkAcl',
  'ec2:ReplaceNetworkAclAssociation',
];
const ROUTE_ACTIONS = ['ec2:CreateRoute', 'ec2:ReplaceRoute', 'ec2:DeleteRoute', 'ec2:ReplaceRouteTableAssociation'];
const FAULT_DESCRIBE = [
  'ec2:DescribeInstances',
  'ec2:DescribeInstanceAttribute',
  'ec2:DescribeSubnets',
  'ec2:DescribeRouteTables',
  'ec2:DescribeNetworkAcls',
  'rds:DescribeDBClusters',
  'rds:DescribeDBInstances',
];
const API_DESCRIBE = [...FAULT_DESCRIBE, 'ec2:DescribeVpcs'];
const arn = (service: string, resource: string) => ({
  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:${service}:`, { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:${resource}`]],
});
const TAGGED = { StringEquals: { 'aws:ResourceTag/chaosduck:target': 'true' } };

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
  const isDescribe = (action: string) => /^(ec2|rds):Describe/.test(action);
  const awsActionsOf = (s: Synthesized, name: ControlPlaneFunctionName) =>
    statementsOf(s, name)
      .flatMap(actionsOf)
      .filter((a) => a.startsWith('ec2:') || a.startsWith('rds:'));
  const statementsWith = (name: ControlPlaneFunctionName, action: string) => statementsOf(synth, name).filter((s) => actionsOf(s).includes(action));

  it('are granted to inject, observe (faults that end early) and rollback only; the api gets the Describe actions alone', () => {
    const changers = FUNCTION_NAMES.filter((name) => awsActionsOf(synth, name).some((a) => !isDescribe(a)));
    expect(changers).toEqual(['inject', 'observe', 'rollback']);
    const readers = FUNCTION_NAMES.filter((name) => awsActionsOf(synth, name).some(isDescribe));
    expect(readers).toEqual(['inject', 'observe', 'rollback', 'api']);
  });

  it.each(['inject', 'observe', 'rollback'] as const)('%s may change only resources tagged chaosduck:target=true, or the ACL copies it creates', (name) => {
    const statements = statementsOf(synth, name);
    const changing = statements.filter((s) => actionsOf(s).some((a) => (a.startsWith('ec2:') || a.startsWith('rds:')) && !isDescribe(a)));
    expect([...new Set(changing.flatMap(actionsOf))].sort()).toEqual(
      [...TAGGED_FAULT_ACTIONS, 'ec2:CreateTags', 'ec2:DeleteTags', 'ec2:CreateNetworkAclEntry', 'ec2:DeleteNetworkAcl'].sort(),
    );
    for (const statement of changing) expect(isWildcard(statement)).toBe(false);
    // Only one statement goes without a condition: the ACL half of ReplaceNetworkAclAssociation (see below).
    expect(changing.filter((s) => s.Condition === undefined)).toEqual([
      { Effect: 'Allow', Action: 'ec2:ReplaceNetworkAclAssociation', Resource: arn('ec2', 'network-acl/*') },
    ]);
  });

  it('stops, starts, fails over and reboots only tagged instances, clusters and DB instances', () => {
    expect(statementsWith('inject', 'ec2:StopInstances')).toEqual([
      { Effect: 'Allow', Action: ['ec2:StopInstances', 'ec2:StartInstances'], Resource: arn('ec2', 'instance/*'), Condition: TAGGED },
    ]);
    expect(statementsWith('inject', 'rds:FailoverDBCluster')).toEqual([
      { Effect: 'Allow', Action: 'rds:FailoverDBCluster', Resource: arn('rds', 'cluster:*'), Condition: TAGGED },
    ]);
    expect(statementsWith('inject', 'rds:RebootDBInstance')).toEqual([
      { Effect: 'Allow', Action: 'rds:RebootDBInstance', Resource: arn('rds', 'db:*'), Condition: TAGGED },
    ]);
  });

  it("tags tagged instances with ec2_stop's start-after deadline and nothing else", () => {
    const instanceTags = statementsWith('inject', 'ec2:DeleteTags');
    expect(instanceTags).toEqual([
      {
        Effect: 'Allow',
        Action: ['ec2:CreateTags', 'ec2:DeleteTags'],
        Resource: arn('ec2', 'instance/*'),
        Condition: { ...TAGGED, 'ForAllValues:StringEquals': { 'aws:TagKeys': ['chaosduck:start-after'] }, Null: { 'aws:TagKeys': 'false' } },
      },
    ]);
  });

  it('swaps network ACLs the way route_blackhole does: copies created tagged, changed and deleted only while they carry the experiment tag', () => {
    const acl = arn('ec2', 'network-acl/*');
    const requested = { 'aws:RequestTag/chaosduck:experiment': '*' };
    expect(statementsWith('inject', 'ec2:CreateNetworkAcl')).toEqual([
      { Effect: 'Allow', Action: 'ec2:CreateNetworkAcl', Resource: arn('ec2', 'vpc/*'), Condition: TAGGED },
      { Effect: 'Allow', Action: 'ec2:CreateNetworkAcl', Resource: acl, Condition: { StringLike: requested } },
    ]);
    expect(statementsWith('inject', 'ec2:CreateTags').filter((s) => JSON.stringify(s.Resource).includes('network-acl'))).toEqual([
      { Effect: 'Allow', Action: 'ec2:CreateTags', Resource: acl, Condition: { StringEquals: { 'ec2:CreateAction': 'CreateNetworkAcl' }, StringLike: requested } },
    ]);
    expect(statementsWith('inject', 'ec2:CreateNetworkAclEntry')).toEqual([
      {
        Effect: 'Allow',
        Action: ['ec2:CreateNetworkAclEntry', 'ec2:DeleteNetworkAcl'],
        Resource: acl,
        Condition: { StringLike: { 'aws:ResourceTag/chaosduck:experiment': '*' } },
      },
    ]);
    expect(statementsWith('inject', 'ec2:ReplaceNetworkAclAssociation')).toEqual([
      { Effect: 'Allow', Action: 'ec2:ReplaceNetworkAclAssociation', Resource: arn('ec2', 'subnet/*'), Condition: TAGGED },
      // Revert re-associates the subnet's original ACL, which carries no tag of ours: that half cannot be conditioned.
      { Effect: 'Allow', Action: 'ec2:ReplaceNetworkAclAssociation', Resource: acl },
    ]);
  });

  it('match the tags the fault modules write', async () => {
    const { EXPERIMENT_TAG } = await import('../../shared/faults/aws/route-blackhole.js');
    const { START_AFTER_TAG } = await import('../../shared/faults/aws/ec2-stop.js');
    expect(EXPERIMENT_TAG).toBe('chaosduck:experiment');
    expect(START_AFTER_TAG).toBe('chaosduck:start-after');
  });

  it.each(['inject', 'rollback', 'api'] as const)('no route or route-table action for %s (route_blackhole swaps ACLs, not routes)', (name) => {
    const actions = statementsOf(synth, name).flatMap(actionsOf);
    for (const action of ROUTE_ACTIONS) expect(actions).not.toContain(action);
  });

  it('use the tag key the deployer chose', () => {
    const tagged = statementsOf(custom, 'inject').filter((s) => JSON.stringify(s.Condition ?? {}).includes('chaosduck:target'));
    expect(tagged).toEqual([]);
    const changing = statementsOf(custom, 'inject').filter((s) => actionsOf(s).includes('ec2:StopInstances'));
    expect(changing[0]?.Condition).toEqual({ StringEquals: { 'aws:ResourceTag/team:chaos-ok': 'true' } });
    const subnets = statementsOf(custom, 'inject').filter((s) => JSON.stringify(s.Resource).includes('subnet/*'));
    expect(subnets[0]?.Condition).toEqual({ StringEquals: { 'aws:ResourceTag/team:chaos-ok': 'true' } });
  });

  it('leave only Describe actions on every resource, without conditions', () => {
    const wildcard = statementsOf(synth, 'inject').filter((s) => isWildcard(s) && actionsOf(s).some((a) => a.startsWith('ec2:') || a.startsWith('rds:')));
    expect(wildcard.flatMap(actionsOf).sort()).toEqual([...FAULT_DESCRIBE].sort());
    expect(wildcard[0]?.Condition).toBeUndefined();
  });
});

describe('AWS reads for the api (topology and dry runs)', () => {
  const envOf = (s: Synthesized, name: ControlPlaneFunctionName) =>
    (s.template.toJSON().Resources[logicalId(fnOf(s, name).function)].Properties.Environment as { Variables: Record<string, unknown> }).Variables;

  it('gives the api the Describe actions, on `*` and nothing else', () => {
    const aws = statementsOf(synth, 'api').filter((s) => actionsOf(s).some((a) => a.startsWith('ec2:') || a.startsWith('rds:')));
    expect(aws).toHaveLength(1);
    expect(aws[0]?.Resource).toBe('*');
    expect(aws[0]?.Condition).toBeUndefined();
    expect(actionsOf(aws[0] as PolicyStatementJson).sort()).toEqual([...API_DESCRIBE].sort());
  });

  it('sets CHAOS_TAG_KEY for the api only, to the tag key the deployer chose', () => {
    expect(envOf(synth, 'api').CHAOS_TAG_KEY).toBe('chaosduck:target');
    expect(envOf(custom, 'api').CHAOS_TAG_KEY).toBe('team:chaos-ok');
    for (const name of FUNCTION_NAMES.filter((n) => n !== 'api')) expect(envOf(synth, name).CHAOS_TAG_KEY, name).toBeUndefined();
  });

  it('gives DescribeVpcs to the api only', () => {
    const holders = FUNCTION_NAMES.filter((name) => statementsOf(synth, name).flatMap(actionsOf).includes('ec2:DescribeVpcs'));
    expect(holders).toEqual(['api']);
  });
});

describe('CloudWatch alarm probes', () => {
  it('let run-probes and observe describe alarms, on `*`, and nobody else touch CloudWatch', () => {
    const holders = FUNCTION_NAMES.filter((name) => statementsOf(synth, name).some((s) => actionsOf(s).some((a) => a.startsWith('cloudwatch:'))));
    expect(holders).toEqual(['run-probes', 'observe']);
    for (const name of holders) {
      expect(statementsOf(synth, name).filter((s) => actionsOf(s).some((a) => a.startsWith('cloudwatch:')))).toEqual([
        { Effect: 'Allow', Action: 'cloudwatch:DescribeAlarms', Resource: '*' },
      ]);
    }
  });
});

describe('wildcards', () => {
  it('a function role has `*` resources only for X-Ray, the EC2/RDS Describe actions and DescribeAlarms', () => {
    for (const name of FUNCTION_NAMES) {
      const actions = statementsOf(synth, name).filter(isWildcard).flatMap(actionsOf);
      expect(actions.filter((a) => !a.startsWith('xray:') && !/^(ec2|rds):Describe/.test(a) && a !== 'cloudwatch:DescribeAlarms')).toEqual([]);
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
    // eks: DescribeCluster, for the functions that talk to Kubernetes (see eks-access.test.ts).
    expect(services('run-probes')).toEqual(['cloudwatch', 'dynamodb', 'eks', 'events', 'logs', 'xray']);
    expect(services('observe')).toEqual(['cloudwatch', 'dynamodb', 'ec2', 'eks', 'events', 'logs', 'rds', 'xray']);
    expect(services('inject')).toEqual(['dynamodb', 'ec2', 'eks', 'events', 'logs', 'rds', 'xray']);
    expect(services('rollback')).toEqual(['dynamodb', 'ec2', 'eks', 'events', 'logs', 'rds', 'xray']);
    expect(services('api')).toEqual(['dynamodb', 'ec2', 'eks', 'events', 'logs', 'rds', 'states', 'xray']);
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
    expect(states('emergency-stop')).toEqual(['states:DescribeExecution', 'states:StartExecution', 'states:StopExecution']);
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
