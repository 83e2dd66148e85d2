/**
 * Helpers for the infra tests: synthesize the control-plane stack in-process (once per test file — bundling fourteen
 * functions is the slow part, so only the file that inspects bundles asks for it), and look resources up by the
 * construct path a reader recognises rather than by generated logical ids.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { ChaosDuckStack, type ChaosDuckStackProps } from '../../infra/chaosduck-stack.js';
import { cfnOf } from '../../infra/constructs/cfn-of.js';

export interface Synthesized {
  app: App;
  stack: ChaosDuckStack;
  template: Template;
  /** The cloud assembly directory; removed by `dispose`. */
  outdir: string;
  dispose(): void;
}

export interface SynthOptions {
  /** Run esbuild for every function (slow); otherwise assets are placeholders. */
  bundle?: boolean;
  props?: ChaosDuckStackProps;
}

export function synthControlPlane({ bundle = false, props = {} }: SynthOptions = {}): Synthesized {
  const outdir = mkdtempSync(join(tmpdir(), 'chaosduck-cdk-'));
  // `aws:cdk:bundling-stacks: []` is how the CDK CLI skips bundling (`--exclusively`); assets then stay placeholders.
  const app = new App({ outdir, context: bundle ? {} : { 'aws:cdk:bundling-stacks': [] } });
  const stack = new ChaosDuckStack(app, 'ChaosDuck', props);
  const template = Template.fromStack(stack);
  return { app, stack, template, outdir, dispose: () => rmSync(outdir, { recursive: true, force: true }) };
}

/** The logical id of the CloudFormation resource an L2 construct stands for. */
export function logicalId(construct: IConstruct): string {
  return Stack.of(construct).getLogicalId(cfnOf(construct) as CfnElement);
}

export type Json = Record<string, unknown>;

export interface PolicyStatementJson {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Json;
}

/** Every statement of every IAM policy attached to the role with this logical id. */
export function statementsOfRole(template: Template, roleLogicalId: string): PolicyStatementJson[] {
  const policies = Object.values(template.findResources('AWS::IAM::Policy')) as Array<{ Properties: Json }>;
  return policies
    .filter(({ Properties }) => (Properties.Roles as Array<{ Ref?: string }>).some((role) => role.Ref === roleLogicalId))
    .flatMap(({ Properties }) => (Properties.PolicyDocument as { Statement: PolicyStatementJson[] }).Statement);
}

export const actionsOf = (statement: PolicyStatementJson): string[] => [statement.Action].flat();
export const resourcesOf = (statement: PolicyStatementJson): unknown[] => [statement.Resource].flat();
