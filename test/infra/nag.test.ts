/**
 * cdk-nag (AwsSolutions and Serverless packs, the ones `infra/app.ts` registers) on the synthesized app: no error and
 * no warning is left unacknowledged; every acknowledgement sits on one CloudFormation resource, gives a reason, and
 * answers a finding that resource really has — so none can hide a finding it was not written for.
 */
import { App, CfnResource, Validations } from 'aws-cdk-lib';
import type { NagPack } from 'cdk-nag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nagPacks } from '../../infra/nag.js';
import { type Synthesized, synthControlPlane } from './support.js';

interface Finding {
  rule: string;
  path: string;
  severity: string;
}

let synth: Synthesized;
beforeAll(() => {
  synth = synthControlPlane();
});
afterAll(() => synth.dispose());

function findings(app: App, packs: NagPack[]): Finding[] {
  return packs.flatMap((pack) =>
    pack.validateScope(app).violations.flatMap((v) => v.violatingResources.map((r) => ({ rule: v.ruleName, path: r.constructPath ?? '', severity: v.severity ?? '' }))),
  );
}

/** The same packs with acknowledgements ignored: every finding the stack has. */
function rawFindings(app: App): Finding[] {
  const packs = nagPacks(app);
  for (const pack of packs) (pack as unknown as { isAcknowledged: () => boolean }).isAcknowledged = () => false;
  return findings(app, packs);
}

function acknowledgements(app: App): Array<{ path: string; rule: string; reason: string; onCfnResource: boolean }> {
  return app.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([key, reason]) => ({
          path: construct.node.path,
          rule: key.replace(/^annotation::/i, ''),
          reason,
          onCfnResource: CfnResource.isCfnResource(construct),
        })),
      ),
  );
}

describe('cdk-nag', () => {
  it('leaves no unacknowledged error or warning', () => {
    const left = findings(synth.app, nagPacks(synth.app));
    expect(left.filter((f) => f.severity === 'error')).toEqual([]);
    expect(left.filter((f) => f.severity === 'warning')).toEqual([]);
  });

  it('has findings to acknowledge in the first place (the packs do run on this app)', () => {
    const raw = rawFindings(synth.app);
    expect(raw.length).toBeGreaterThan(0);
    expect(raw.some((f) => f.rule.startsWith('AwsSolutions-'))).toBe(true);
    expect(raw.some((f) => f.rule.startsWith('Serverless-'))).toBe(true);
  });

  it('acknowledges each finding on the one CloudFormation resource that has it, with a reason', () => {
    const acks = acknowledgements(synth.app);
    expect(acks.length).toBeGreaterThan(0);
    for (const ack of acks) {
      expect(ack.onCfnResource, `${ack.rule} on ${ack.path}`).toBe(true);
      expect(ack.reason.length, `${ack.rule} on ${ack.path}`).toBeGreaterThan(40);
    }
  });

  it('acknowledges nothing that is not a finding of that resource', () => {
    const raw = new Set(rawFindings(synth.app).map((f) => `${f.rule} @ ${f.path}`));
    const stale = acknowledgements(synth.app)
      .map((ack) => `${ack.rule} @ ${ack.path}`)
      .filter((key) => !raw.has(key));
    expect(stale).toEqual([]);
  });

  it('acknowledges the AWS fault, topology and alarm wildcards on the policies that hold them, and only there', () => {
    const acks = acknowledgements(synth.app).filter((ack) => ack.rule.startsWith('AwsSolutions-IAM5'));
    const where = (rule: string) =>
      acks
        .filter((ack) => ack.rule === rule)
        .map((ack) => ack.path.replace(/^ChaosDuck\//, ''))
        .sort();
    const arn = (service: string, resource: string) => `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:${service}:<AWS::Region>:<AWS::AccountId>:${resource}]`;
    const faultPolicies = ['Functions/Inject/Faults/Policy/Resource', 'Functions/Observe/Faults/Policy/Resource', 'Functions/Rollback/Faults/Policy/Resource'];
    const stripFunctions = (paths: string[]) => paths.map((path) => path.replace(/^.*?(Functions\/)/, '$1'));
    for (const resource of ['instance/*', 'vpc/*', 'subnet/*', 'network-acl/*']) expect(stripFunctions(where(arn('ec2', resource))), resource).toEqual(faultPolicies);
    for (const resource of ['cluster:*', 'db:*']) expect(stripFunctions(where(arn('rds', resource))), resource).toEqual(faultPolicies);
    expect(where(arn('ec2', 'route-table/*'))).toEqual([]);
    const star = stripFunctions(where('AwsSolutions-IAM5[Resource::*]')).filter((path) => !path.endsWith('DefaultPolicy/Resource'));
    expect(star.sort()).toEqual(
      [
        ...faultPolicies,
        'Functions/Api/AwsRead/Policy/Resource',
        'Functions/RunProbes/AlarmProbes/Policy/Resource',
        'Functions/Observe/AlarmProbes/Policy/Resource',
      ].sort(),
    );
  });
});
