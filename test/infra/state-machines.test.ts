/**
 * The six state machines as deployed: built from the ASL files with every placeholder substituted by the ARN of the
 * function or child machine it names, logged and traced, and each role allowed to call only what its file calls.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlPlaneFunctionName } from '../../infra/function-catalogue.js';
import { MACHINE_NAMES, type MachineName, loadDefinition } from '../../statemachines/definitions.js';
import { type Json, type Synthesized, actionsOf, logicalId, resourcesOf, statementsOfRole, synthControlPlane } from './support.js';

let synth: Synthesized;
beforeAll(() => {
  synth = synthControlPlane();
});
afterAll(() => synth.dispose());

/** What each definition calls, as the ASL files are written. */
const CALLS: Record<MachineName, { functions: ControlPlaneFunctionName[]; children: MachineName[] }> = {
  experiment: { functions: ['begin', 'finish'], children: ['steady-state', 'hypothesis', 'inject', 'observe', 'rollback'] },
  'steady-state': { functions: ['run-probes'], children: [] },
  hypothesis: { functions: ['form-hypothesis'], children: [] },
  inject: { functions: ['inject'], children: [] },
  observe: { functions: ['observe'], children: [] },
  rollback: { functions: ['rollback'], children: [] },
};

const machine = (name: MachineName) => {
  const found = synth.stack.stateMachines.machines.get(name);
  if (!found) throw new Error(`no ${name} machine`);
  return found;
};
const machineId = (name: MachineName) => logicalId(machine(name));
const functionId = (name: ControlPlaneFunctionName) => {
  const found = synth.stack.functions.get(name);
  if (!found) throw new Error(`no ${name} function`);
  return logicalId(found.function);
};
const properties = (name: MachineName) => synth.template.toJSON().Resources[machineId(name)].Properties as Json;
const roleId = (name: MachineName) => (properties(name).RoleArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];

/** Renders a substitution value (a CloudFormation reference) as a readable stand-in ARN naming the resource. */
function standIn(value: unknown): string {
  const ref = value as { 'Fn::GetAtt'?: [string, string]; Ref?: string };
  if (ref['Fn::GetAtt']) return `arn:test:lambda:function:${ref['Fn::GetAtt'][0]}`;
  if (ref.Ref) return `arn:test:states:stateMachine:${ref.Ref}`;
  throw new Error(`unexpected substitution ${JSON.stringify(value)}`);
}

describe('state machines', () => {
  it('deploys all six as STANDARD machines that log every event without execution data, with tracing', () => {
    synth.template.resourceCountIs('AWS::StepFunctions::StateMachine', MACHINE_NAMES.length);
    for (const name of MACHINE_NAMES) {
      expect(properties(name)).toMatchObject({
        StateMachineType: 'STANDARD',
        TracingConfiguration: { Enabled: true },
        LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: false },
      });
    }
  });

  it('loads each definition from its ASL file (an S3 asset), not from an inlined copy', () => {
    for (const name of MACHINE_NAMES) {
      expect(properties(name).DefinitionS3Location).toBeDefined();
      expect(properties(name).DefinitionString).toBeUndefined();
    }
  });

  it.each(MACHINE_NAMES)('%s: every placeholder is substituted with the ARN of the resource it names', (name) => {
    const substitutions = properties(name).DefinitionSubstitutions as Json;
    const rendered = Object.fromEntries(Object.entries(substitutions).map(([key, value]) => [key, standIn(value)]));
    // The loader the local runtime uses throws on a placeholder without a substitution.
    const definition = loadDefinition(name, rendered);
    expect(JSON.stringify(definition)).not.toContain('${');

    const expected = [
      ...CALLS[name].functions.map((fn) => `arn:test:lambda:function:${functionId(fn)}`),
      ...CALLS[name].children.map((child) => `arn:test:states:stateMachine:${machineId(child)}`),
    ];
    expect(Object.values(rendered).sort()).toEqual(expected.sort());
  });

  it('the orchestrator runs Begin, each phase machine and Finish with the substituted ARNs', () => {
    const substitutions = properties('experiment').DefinitionSubstitutions as Json;
    const definition = loadDefinition('experiment', Object.fromEntries(Object.entries(substitutions).map(([k, v]) => [k, standIn(v)])));
    expect(definition.States.Begin?.Resource).toBe(`arn:test:lambda:function:${functionId('begin')}`);
    expect(definition.States.Finish?.Resource).toBe(`arn:test:lambda:function:${functionId('finish')}`);
    expect(definition.States.SteadyState?.Resource).toBe('arn:aws:states:::states:startExecution.sync:2');
    expect((definition.States.SteadyState?.Parameters as Json).StateMachineArn).toBe(`arn:test:states:stateMachine:${machineId('steady-state')}`);
    expect((definition.States.Rollback?.Parameters as Json).StateMachineArn).toBe(`arn:test:states:stateMachine:${machineId('rollback')}`);
  });
});

describe('state machine roles', () => {
  it.each(MACHINE_NAMES)('%s may invoke only its own functions, by unqualified ARN', (name) => {
    const invoked = statementsOfRole(synth.template, roleId(name))
      .filter((s) => actionsOf(s).some((a) => a.startsWith('lambda:')))
      .flatMap((s) => {
        expect(actionsOf(s)).toEqual(['lambda:InvokeFunction']);
        return resourcesOf(s);
      });
    expect(invoked).toEqual(expect.arrayContaining(CALLS[name].functions.map((fn) => ({ 'Fn::GetAtt': [functionId(fn), 'Arn'] }))));
    expect(invoked).toHaveLength(CALLS[name].functions.length);
  });

  it('the orchestrator starts, describes and stops the five child machines and manages the .sync rule', () => {
    const statements = statementsOfRole(synth.template, roleId('experiment'));
    const resourcesFor = (action: string) => statements.filter((s) => actionsOf(s).includes(action)).flatMap(resourcesOf);
    const children = CALLS.experiment.children;

    expect(resourcesFor('states:StartExecution')).toEqual(expect.arrayContaining(children.map((c) => ({ Ref: machineId(c) }))));
    expect(resourcesFor('states:StartExecution')).toHaveLength(children.length);
    for (const action of ['states:DescribeExecution', 'states:StopExecution']) {
      const executions = JSON.stringify(resourcesFor(action));
      for (const child of children) expect(executions).toContain(`{"Fn::GetAtt":["${machineId(child)}","Name"]},":*"`);
      expect(resourcesFor(action)).toHaveLength(children.length);
    }
    for (const action of ['events:PutTargets', 'events:PutRule', 'events:DescribeRule']) {
      expect(JSON.stringify(resourcesFor(action))).toContain(':rule/StepFunctionsGetEventsForStepFunctionsExecutionRule');
    }
  });

  it('phase machines start no executions and touch no rules', () => {
    for (const name of MACHINE_NAMES.filter((n) => n !== 'experiment')) {
      const actions = statementsOfRole(synth.template, roleId(name)).flatMap(actionsOf);
      expect(actions.filter((a) => a.startsWith('states:') || a.startsWith('events:'))).toEqual([]);
    }
  });

  it('each machine logs to its own vended-logs log group with a retention', () => {
    const groups = synth.template.findResources('AWS::Logs::LogGroup', {
      Properties: { LogGroupName: Match.stringLikeRegexp('^/aws/vendedlogs/states/'), RetentionInDays: Match.anyValue() },
    });
    expect(Object.keys(groups)).toHaveLength(MACHINE_NAMES.length);
  });
});
