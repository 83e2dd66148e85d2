/**
 * The six lifecycle state machines: the `experiment` orchestrator and the phase machines it runs as children. Each
 * is built after the children its definition names, so the orchestrator's substitutions point at real machines.
 */
import type { IGrantable, Grant } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { FunctionName } from '../../functions/registry.js';
import { MACHINE_NAMES, type MachineName } from '../../statemachines/definitions.js';
import { AslStateMachine, executionsArnFinding, grantOnExecutions, placeholdersOf } from './asl-state-machine.js';
import { pascal } from '../pascal.js';

/** The machine that runs a whole experiment; the API starts it, the emergency stop stops it. */
export const ORCHESTRATOR: MachineName = 'experiment';

export interface LifecycleStateMachinesProps {
  /** The lifecycle task functions by registry name. */
  readonly functions: ReadonlyMap<FunctionName, IFunction>;
  /**
   * Whether execution logs carry state input and output.
   * @default false - see `AslStateMachineProps.includeExecutionData`
   */
  readonly includeExecutionData?: boolean;
  /** @default RetentionDays.THREE_MONTHS */
  readonly logRetention?: RetentionDays;
}

export class LifecycleStateMachines extends Construct {
  readonly machines: ReadonlyMap<MachineName, StateMachine>;

  constructor(scope: Construct, id: string, props: LifecycleStateMachinesProps) {
    super(scope, id);
    const built = new Map<MachineName, StateMachine>();
    const names = [...props.functions.keys()];
    const build = (name: MachineName, path: readonly MachineName[]): StateMachine => {
      const existing = built.get(name);
      if (existing) return existing;
      if (path.includes(name)) throw new Error(`state machines run each other in a cycle: ${[...path, name].join(' → ')}`);
      const children = new Map(placeholdersOf(name, names).machines.map((child) => [child, build(child, [...path, name])] as const));
      const machine = new AslStateMachine(this, pascal(name), {
        definition: name,
        functions: props.functions,
        children,
        includeExecutionData: props.includeExecutionData,
        logRetention: props.logRetention,
      }).stateMachine;
      built.set(name, machine);
      return machine;
    };
    for (const name of MACHINE_NAMES) build(name, []);
    this.machines = built;
  }

  get orchestrator(): StateMachine {
    const machine = this.machines.get(ORCHESTRATOR);
    if (!machine) throw new Error(`no ${ORCHESTRATOR} state machine`);
    return machine;
  }

  /** StartExecution on the orchestrator: submitting an experiment, or its rollback run. */
  grantStartExperiment(grantee: IGrantable): Grant {
    return this.orchestrator.grantStartExecution(grantee);
  }

  /** StopExecution on orchestrator executions (Step Functions stops their `.sync` children with them). */
  grantStopExperiment(grantee: IGrantable): Grant {
    return grantOnExecutions(grantee, this.orchestrator, ['states:StopExecution']);
  }

  /** DescribeExecution on orchestrator executions: is an experiment's run still going? */
  grantDescribeExperiment(grantee: IGrantable): Grant {
    return grantOnExecutions(grantee, this.orchestrator, ['states:DescribeExecution']);
  }

  /** The cdk-nag IAM5 finding id of the orchestrator-executions ARN that the two grants above name. */
  get executionsFinding(): string {
    return executionsArnFinding(this.orchestrator);
  }
}
