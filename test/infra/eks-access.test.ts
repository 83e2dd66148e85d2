/**
 * EKS access for the functions that talk to Kubernetes: eks:DescribeCluster on the clusters the deployer lists (or on
 * any cluster in this account and region when none are), an access entry per listed cluster and function role in the
 * Kubernetes group that deploy/kubernetes/rbac.yaml binds, nothing for the other functions, and cdk-nag left with
 * nothing unacknowledged either way.
 */
import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { CONTEXT_KEYS, stackPropsFromContext } from '../../infra/context.js';
import { KUBERNETES_GROUP } from '../../infra/constructs/eks-access.js';
import { FUNCTIONS, FUNCTION_NAMES, type ControlPlaneFunctionName } from '../../infra/function-catalogue.js';
import { nagPacks } from '../../infra/nag.js';
import { type Synthesized, actionsOf, logicalId, statementsOfRole, synthControlPlane } from './support.js';

const KUBERNETES_FUNCTIONS = ['run-probes', 'inject', 'observe', 'rollback', 'api'];
const CLUSTERS = ['shop', 'ledger'];
const clusterArn = (name: string) => ({
  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':eks:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:cluster/${name}`]],
});

let plain: Synthesized;
let listed: Synthesized;
beforeAll(() => {
  plain = synthControlPlane();
  listed = synthControlPlane({ props: { eksClusters: CLUSTERS } });
});
afterAll(() => {
  plain.dispose();
  listed.dispose();
});

const roleOf = (s: Synthesized, name: ControlPlaneFunctionName) => {
  const fn = s.stack.functions.get(name);
  if (!fn) throw new Error(`no ${name}`);
  return fn.role;
};
const eksStatements = (s: Synthesized, name: ControlPlaneFunctionName) =>
  statementsOfRole(s.template, logicalId(roleOf(s, name))).filter((st) => actionsOf(st).some((a) => a.startsWith('eks:')));
const accessEntries = (s: Synthesized) => Object.values(s.template.findResources('AWS::EKS::AccessEntry')) as Array<{ Properties: Record<string, unknown> }>;
const unacknowledged = (s: Synthesized) =>
  nagPacks(s.app)
    .flatMap((pack) => pack.validateScope(s.app).violations)
    .filter((v) => v.severity === 'error' || v.severity === 'warning')
    .map((v) => v.ruleName);

describe('eks:DescribeCluster', () => {
  it('is granted to the functions that carry the Kubernetes client, and to no other', () => {
    const holders = FUNCTION_NAMES.filter((name) => eksStatements(plain, name).length > 0);
    expect(holders.sort()).toEqual([...KUBERNETES_FUNCTIONS].sort());
    expect(FUNCTION_NAMES.filter((name) => 'kubernetes' in FUNCTIONS[name]).sort()).toEqual([...KUBERNETES_FUNCTIONS].sort());
  });

  it('without chaosduck:eksClusters, on any cluster of this account and region, and no access entry', () => {
    for (const name of KUBERNETES_FUNCTIONS as ControlPlaneFunctionName[]) {
      expect(eksStatements(plain, name)).toEqual([{ Effect: 'Allow', Action: 'eks:DescribeCluster', Resource: clusterArn('*') }]);
    }
    expect(accessEntries(plain)).toEqual([]);
    expect(unacknowledged(plain)).toEqual([]);
  });

  it('with chaosduck:eksClusters, on exactly those clusters', () => {
    for (const name of KUBERNETES_FUNCTIONS as ControlPlaneFunctionName[]) {
      expect(eksStatements(listed, name)).toEqual([{ Effect: 'Allow', Action: 'eks:DescribeCluster', Resource: CLUSTERS.map(clusterArn) }]);
    }
    expect(unacknowledged(listed)).toEqual([]);
  });
});

describe('access entries', () => {
  it('map each Kubernetes function role into the chaosduck group on each listed cluster, with no EKS access policy', () => {
    const entries = accessEntries(listed).map(({ Properties }) => Properties);
    const roleArn = (name: ControlPlaneFunctionName) => ({ 'Fn::GetAtt': [logicalId(roleOf(listed, name)), 'Arn'] });

    expect(entries).toHaveLength(KUBERNETES_FUNCTIONS.length * CLUSTERS.length);
    for (const cluster of CLUSTERS) {
      for (const name of KUBERNETES_FUNCTIONS as ControlPlaneFunctionName[]) {
        expect(entries).toContainEqual({ ClusterName: cluster, PrincipalArn: roleArn(name), KubernetesGroups: [KUBERNETES_GROUP], Type: 'STANDARD' });
      }
    }
  });

  it('are for the group deploy/kubernetes/rbac.yaml binds', () => {
    const [role, binding] = parseAllDocuments(readFileSync('deploy/kubernetes/rbac.yaml', 'utf8')).map((doc) => doc.toJS());
    expect(role).toMatchObject({ kind: 'ClusterRole' });
    expect(binding).toMatchObject({
      kind: 'ClusterRoleBinding',
      roleRef: { kind: 'ClusterRole', name: role.metadata.name },
      subjects: [{ kind: 'Group', name: KUBERNETES_GROUP }],
    });
  });

  it('names the roles to map by hand in the KubernetesRoleArns output', () => {
    const value = JSON.stringify((plain.template.toJSON().Outputs as Record<string, { Value: unknown }>).KubernetesRoleArns?.Value);
    for (const name of KUBERNETES_FUNCTIONS as ControlPlaneFunctionName[]) expect(value).toContain(logicalId(roleOf(plain, name)));
    for (const name of FUNCTION_NAMES.filter((n) => !KUBERNETES_FUNCTIONS.includes(n))) expect(value).not.toContain(logicalId(roleOf(plain, name)));
  });
});

describe('context chaosduck:eksClusters', () => {
  const propsFor = (context: Record<string, unknown>) => stackPropsFromContext(new App({ context }));

  it('takes a JSON list (cdk.json) or a comma-separated string (-c)', () => {
    expect(propsFor({ [CONTEXT_KEYS.eksClusters]: CLUSTERS }).eksClusters).toEqual(CLUSTERS);
    expect(propsFor({ [CONTEXT_KEYS.eksClusters]: 'shop, ledger' }).eksClusters).toEqual(CLUSTERS);
    expect(propsFor({ [CONTEXT_KEYS.eksClusters]: JSON.stringify(CLUSTERS) }).eksClusters).toEqual(CLUSTERS);
    expect(propsFor({}).eksClusters).toBeUndefined();
  });

  it('refuses what is not a cluster name, ARNs included (access entries can only be made in this region)', () => {
    expect(() => propsFor({ [CONTEXT_KEYS.eksClusters]: [42] })).toThrow(/list of EKS cluster names/);
    expect(() => propsFor({ [CONTEXT_KEYS.eksClusters]: 'arn:aws:eks:eu-west-1:111122223333:cluster/shop' })).toThrow(/not an EKS cluster name/);
    expect(() => synthControlPlane({ props: { eksClusters: ['shop*'] } })).toThrow(/not an EKS cluster name/);
  });
});

describe('chaosduck:agentImage', () => {
  const IMAGE = '111122223333.dkr.ecr.eu-west-1.amazonaws.com/chaosduck-agent:1';
  it('reaches the functions that apply and revert Kubernetes faults as CHAOSDUCK_AGENT_IMAGE, and no others', () => {
    const synth = synthControlPlane({ props: { agentImage: IMAGE } });
    try {
      const functions = synth.template.findResources('AWS::Lambda::Function');
      const withImage = Object.values(functions).filter((f) => (f as { Properties: { Environment?: { Variables?: Record<string, unknown> } } }).Properties.Environment?.Variables?.CHAOSDUCK_AGENT_IMAGE === IMAGE);
      const expected = FUNCTION_NAMES.filter((n) => 'kubernetes' in FUNCTIONS[n] && 'faults' in FUNCTIONS[n]);
      expect(expected.length).toBeGreaterThan(0);
      expect(withImage).toHaveLength(expected.length);
    } finally {
      synth.dispose();
    }
    expect(stackPropsFromContext(new App({ context: { [CONTEXT_KEYS.agentImage]: IMAGE } })).agentImage).toBe(IMAGE);
    expect(() => stackPropsFromContext(new App({ context: { [CONTEXT_KEYS.agentImage]: '' } }))).toThrow(/chaosduck:agentImage must be a non-empty string/);
  });
});
