/**
 * One state machine from its ASL file in `statemachines/` — the file the local runtime runs too. The file's
 * `${...}FunctionArn` and `${...}MachineArn` placeholders decide what it may call: each is substituted with the ARN of
 * the function or child machine it names, and the role is granted exactly those and nothing else.
 */
import { readFileSync } from 'node:fs';
import { Aws, type CfnElement, Names, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { DefinitionBody, LogLevel, StateMachine, StateMachineType } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { cfnOf } from './cfn-of.js';
import type { FunctionName } from '../../functions/registry.js';
import { MACHINE_NAMES, type MachineName, definitionPath, functionArnKey, machineArnKey } from '../../statemachines/definitions.js';

/** The rule Step Functions creates in the account to learn when a `.sync` child execution ends. */
const SYNC_EXECUTION_RULE = 'StepFunctionsGetEventsForStepFunctionsExecutionRule';

export interface Placeholders {
  functions: FunctionName[];
  machines: MachineName[];
}

/** The functions and child machines a definition names, read from its placeholders. */
export function placeholdersOf(name: MachineName, functionNames: readonly FunctionName[]): Placeholders {
  const byKey = new Map<string, { kind: 'function'; name: FunctionName } | { kind: 'machine'; name: MachineName }>([
    ...functionNames.map((fn) => [functionArnKey(fn), { kind: 'function', name: fn }] as const),
    ...MACHINE_NAMES.map((machine) => [machineArnKey(machine), { kind: 'machine', name: machine }] as const),
  ]);
  const found: Placeholders = { functions: [], machines: [] };
  for (const [placeholder, key] of readFileSync(definitionPath(name), 'utf8').matchAll(/\$\{(\w+)\}/g)) {
    const target = key === undefined ? undefined : byKey.get(key);
    if (!target) throw new Error(`${name}.asl.json: ${placeholder} names no known function or state machine`);
    if (target.kind === 'function' && !found.functions.includes(target.name)) found.functions.push(target.name);
    if (target.kind === 'machine' && !found.machines.includes(target.name)) found.machines.push(target.name);
  }
  return found;
}

export interface AslStateMachineProps {
  /** Which definition in `statemachines/` to deploy. */
  readonly definition: MachineName;
  /** Task functions by registry name; the definition's placeholders pick the ones it may invoke. */
  readonly functions: ReadonlyMap<FunctionName, IFunction>;
  /**
   * Child state machines by name, for definitions that run them with `startExecution.sync:2`.
   * @default - none
   */
  readonly children?: ReadonlyMap<MachineName, StateMachine>;
  /**
   * Whether execution logs carry each state's input and output.
   * @default false - inputs carry the whole experiment spec (probe URLs and headers, commands) and the journal in
   *   DynamoDB already records every activity with its output; the execution history keeps the data for the console
   */
  readonly includeExecutionData?: boolean;
  /** @default RetentionDays.THREE_MONTHS */
  readonly logRetention?: RetentionDays;
}

export class AslStateMachine extends Construct {
  readonly stateMachine: StateMachine;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: AslStateMachineProps) {
    super(scope, id);
    const uses = placeholdersOf(props.definition, [...props.functions.keys()]);
    const substitutions: Record<string, string> = {};
    const functions = uses.functions.map((name) => {
      const fn = props.functions.get(name);
      if (!fn) throw new Error(`${props.definition}.asl.json invokes ${name}, which was not given`);
      substitutions[functionArnKey(name)] = fn.functionArn;
      return fn;
    });
    const children = uses.machines.map((name) => {
      const child = props.children?.get(name);
      if (!child) throw new Error(`${props.definition}.asl.json runs the ${name} state machine, which was not given`);
      substitutions[machineArnKey(name)] = child.stateMachineArn;
      return { name, child };
    });

    this.logGroup = new LogGroup(this, 'Logs', {
      // Log groups under /aws/vendedlogs/ need no entry in the account's CloudWatch Logs resource policy, whose size
      // limit a busy account can reach; the name is derived from the construct path, so two stacks never collide.
      logGroupName: `/aws/vendedlogs/states/${Names.uniqueResourceName(this, { maxLength: 400 })}`,
      retention: props.logRetention ?? RetentionDays.THREE_MONTHS,
      // A named group kept after the stack is deleted would block deploying the stack again; the experiment's
      // record is its journal in DynamoDB, not these logs.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stateMachine = new StateMachine(this, 'StateMachine', {
      stateMachineType: StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromFile(definitionPath(props.definition)),
      definitionSubstitutions: substitutions,
      tracingEnabled: true,
      logs: { destination: this.logGroup, level: LogLevel.ALL, includeExecutionData: props.includeExecutionData ?? false },
    });

    const role = this.stateMachine.role;
    for (const fn of functions) {
      // The unqualified ARN only, which is what the definition names: no versions or aliases.
      Grant.addToPrincipal({ grantee: role, actions: ['lambda:InvokeFunction'], resourceArns: [fn.functionArn] });
    }
    for (const { child } of children) {
      child.grantStartExecution(role);
      grantOnExecutions(role, child, ['states:DescribeExecution', 'states:StopExecution']);
    }
    if (children.length > 0) {
      Grant.addToPrincipal({
        grantee: role,
        actions: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
        resourceArns: [Stack.of(this).formatArn({ service: 'events', resource: 'rule', resourceName: SYNC_EXECUTION_RULE })],
      });
    }

    const policy = cfnOf(role.node.findChild('DefaultPolicy'));
    Validations.of(policy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'Log delivery (logs:CreateLogDelivery, PutResourcePolicy, DescribeLogGroups, ...) and X-Ray (xray:PutTraceSegments, GetSamplingRules, ...) support no resource-level permissions',
    });
    for (const { name, child } of children) {
      Validations.of(policy).acknowledge({
        id: executionsArnFinding(child),
        reason: `Describing and stopping the ${name} child executions this machine starts: execution names are made at run time, the ARN is limited to that one state machine`,
      });
    }
  }
}

/**
 * Every execution of one state machine, `arn:…:execution:<machine name>:*` — written with pseudo parameters, so its
 * cdk-nag finding reads the same whatever environment the stack is synthesized for.
 */
export function executionsArn(machine: StateMachine): string {
  return `arn:${Aws.PARTITION}:states:${Aws.REGION}:${Aws.ACCOUNT_ID}:execution:${machine.stateMachineName}:*`;
}

export function grantOnExecutions(grantee: IGrantable, machine: StateMachine, actions: string[]): Grant {
  return Grant.addToPrincipal({ grantee, actions, resourceArns: [executionsArn(machine)] });
}

/** The IAM5 finding id cdk-nag reports for `executionsArn(machine)`, so an acknowledgement covers that one only. */
export function executionsArnFinding(machine: StateMachine): string {
  const logicalId = Stack.of(machine).getLogicalId(machine.node.defaultChild as CfnElement);
  return `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:<${logicalId}.Name>:*]`;
}
