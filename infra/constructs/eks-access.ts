/**
 * What a function that reaches Kubernetes needs on the AWS side (`shared/faults/kubernetes/eks.ts`):
 *
 *   eks:DescribeCluster   the endpoint and CA of the cluster an experiment names; on the clusters the deployer lists
 *                         (`chaosduck:eksClusters`), or on any cluster in this account and region when none are listed
 *   an access entry       per listed cluster: the function's role, in the Kubernetes group `chaosduck`, which
 *                         deploy/kubernetes/rbac.yaml binds to exactly the API calls the control plane makes
 *
 * The token the function signs needs no IAM permission (STS GetCallerIdentity is allowed to every principal), and no
 * access policy is associated: Kubernetes RBAC, not EKS, decides what the group may do. An access entry needs a
 * cluster whose authentication mode includes the EKS API (`API` or `API_AND_CONFIG_MAP`).
 */
import { Aws, Validations } from 'aws-cdk-lib';
import { CfnAccessEntry } from 'aws-cdk-lib/aws-eks';
import { type IRole, Policy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { cfnOf } from './cfn-of.js';

/** The Kubernetes group the access entries put the control plane's roles in; rbac.yaml's ClusterRoleBinding names it. */
export const KUBERNETES_GROUP = 'chaosduck';

/** An EKS cluster name (the API's own pattern, at most 100 characters). */
const CLUSTER_NAME = /^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/;

/** Checks the deployer's list; a wrong entry fails the synth instead of granting something else. */
export function assertEksClusterNames(names: readonly string[], source: string): void {
  const bad = names.filter((name) => !CLUSTER_NAME.test(name));
  if (bad.length > 0) throw new Error(`${source}: not an EKS cluster name (in this stack's account and region): ${bad.join(', ')}`);
}

export interface EksAccessProps {
  /** The role of a function that talks to Kubernetes. */
  readonly role: IRole;
  /**
   * Names of EKS clusters in this stack's account and region: DescribeCluster on them only, and an access entry on
   * each. Empty: DescribeCluster on every cluster here and no access entry (the deployer maps the role themselves).
   */
  readonly clusters: readonly string[];
}

export class EksAccess extends Construct {
  readonly policy: Policy;
  /** One per listed cluster, by cluster name. */
  readonly accessEntries: ReadonlyMap<string, CfnAccessEntry>;

  constructor(scope: Construct, id: string, props: EksAccessProps) {
    super(scope, id);
    const clusters = [...new Set(props.clusters)];
    assertEksClusterNames(clusters, this.node.path);
    // Pseudo parameters even when the stack's environment is known, so the cdk-nag finding reads the same everywhere.
    const clusterArn = (name: string) => `arn:${Aws.PARTITION}:eks:${Aws.REGION}:${Aws.ACCOUNT_ID}:cluster/${name}`;

    this.policy = new Policy(this, 'Policy', {
      statements: [new PolicyStatement({ actions: ['eks:DescribeCluster'], resources: clusters.length > 0 ? clusters.map(clusterArn) : [clusterArn('*')] })],
    });
    props.role.attachInlinePolicy(this.policy);
    if (clusters.length === 0) {
      Validations.of(cfnOf(this.policy)).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:eks:<AWS::Region>:<AWS::AccountId>:cluster/*]',
        reason:
          'Only eks:DescribeCluster, read-only, on the clusters of this account and region: experiments name their cluster per run, and the deployer listed none (context chaosduck:eksClusters narrows this to the listed ones)',
      });
    }

    this.accessEntries = new Map(
      clusters.map((name) => [
        name,
        new CfnAccessEntry(this, `AccessEntry-${name}`, { clusterName: name, principalArn: props.role.roleArn, kubernetesGroups: [KUBERNETES_GROUP], type: 'STANDARD' }),
      ]),
    );
  }
}
