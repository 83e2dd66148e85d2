/**
 * One Lambda function of the control plane, built the same way for every handler: Node.js 22 on arm64, an ESM bundle
 * minified by esbuild with the AWS SDK left to the runtime, active X-Ray tracing, and its own log group with a
 * retention. Its role starts empty (no managed policy): it may write its own log group and X-Ray traces, and every
 * other permission is granted by whoever wires the function, next to the environment variable that names the resource.
 */
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { cfnOf } from './cfn-of.js';

/** The modules the Lambda Node.js runtime provides; bundling them would only grow every cold start. */
export const RUNTIME_PROVIDED_MODULES = ['@aws-sdk/*'];

/**
 * Packages bundled as a module of ours instead: dead weight that a dependency imports but never uses on Node 22
 * (each replacement says why).
 */
export const BUNDLE_ALIASES: Record<string, string> = {
  'whatwg-url': fileURLToPath(new URL('../bundling/whatwg-url.ts', import.meta.url)),
};

export interface ControlPlaneFunctionProps {
  /** Absolute path of the handler module; it must export `handler`. */
  readonly entry: string;
  /** What the function does, shown in the Lambda console. */
  readonly description: string;
  /**
   * Why nothing invokes this function asynchronously — e.g. "Step Functions invokes it synchronously as a task".
   * Exactly one of `syncInvocationReason` and `deadLetterQueue` is given: a dead-letter queue only ever receives
   * failed asynchronous invocations, so a synchronously invoked function has none and says why.
   */
  readonly syncInvocationReason?: string;
  /**
   * Where failed asynchronous invocations (EventBridge rule targets, schedules) end up after Lambda's retries.
   * @default - none; then `syncInvocationReason` is required
   */
  readonly deadLetterQueue?: IQueue;
  /** @default Duration.seconds(30) */
  readonly timeout?: Duration;
  /** @default 512 */
  readonly memorySize?: number;
  /** @default RetentionDays.THREE_MONTHS */
  readonly logRetention?: RetentionDays;
  /**
   * A physical name, for a function others must name before it exists (to keep the template free of a reference
   * cycle); at most 64 characters.
   * @default - a name CloudFormation generates
   */
  readonly functionName?: string;
  /**
   * What happens to the log group when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly logRemovalPolicy?: RemovalPolicy;
}

export class ControlPlaneFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: ControlPlaneFunctionProps) {
    super(scope, id);
    if ((props.deadLetterQueue === undefined) === (props.syncInvocationReason === undefined)) {
      throw new Error(`${this.node.path}: give exactly one of deadLetterQueue (async invocation) and syncInvocationReason`);
    }

    this.logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention ?? RetentionDays.THREE_MONTHS,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
    // An explicit role instead of the default one with AWSLambdaBasicExecutionRole: that managed policy lets the
    // function create and write any log group in the account; this one writes only its own.
    this.role = new Role(this, 'Role', { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
    this.logGroup.grantWrite(this.role);

    this.function = new NodejsFunction(this, 'Function', {
      entry: props.entry,
      handler: 'handler',
      description: props.description,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      timeout: props.timeout ?? Duration.seconds(30),
      memorySize: props.memorySize ?? 512,
      tracing: Tracing.ACTIVE,
      role: this.role,
      logGroup: this.logGroup,
      ...(props.functionName ? { functionName: props.functionName } : {}),
      deadLetterQueue: props.deadLetterQueue,
      environment: {
        // Stack traces of the minified bundle point at the TypeScript sources.
        NODE_OPTIONS: '--enable-source-maps',
      },
      bundling: {
        format: OutputFormat.ESM,
        target: 'node22',
        // Prefer the ESM builds of dependencies that ship both, so esbuild can tree-shake them.
        mainFields: ['module', 'main'],
        minify: true,
        sourceMap: true,
        // The map only needs positions; the sources themselves would double the asset for nothing.
        sourcesContent: false,
        externalModules: RUNTIME_PROVIDED_MODULES,
        esbuildArgs: { '--alias': Object.entries(BUNDLE_ALIASES).map(([name, path]) => `${name}=${path}`) },
        // CommonJS dependencies bundled into ESM keep their `require` calls for Node built-ins, and an ES module has
        // no `require`: without this, adding such a dependency would break the function at cold start.
        banner: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
      },
    });

    // The tracing grant that CDK adds when the function is built is the role's only wildcard.
    this.acknowledgeGrant(
      'AwsSolutions-IAM5[Resource::*]',
      'xray:PutTraceSegments and xray:PutTelemetryRecords (active tracing) support no resource-level permissions; every other statement names its resources',
    );
    const runtimeReason =
      'Pinned to nodejs22.x: the code is developed and tested on Node 22 (package.json engines and the `node` package); move both together';
    const cfnFunction = cfnOf(this.function);
    Validations.of(cfnFunction).acknowledge(
      { id: 'AwsSolutions-L1', reason: runtimeReason },
      { id: 'Serverless-LambdaLatestVersion', reason: runtimeReason },
    );
    if (props.syncInvocationReason !== undefined) {
      Validations.of(cfnFunction).acknowledge({
        id: 'Serverless-LambdaDLQ',
        reason: `${props.syncInvocationReason}; a dead-letter queue only receives failed asynchronous invocations, and a failure here reaches the caller`,
      });
    }
  }

  /** Sets one environment variable; the caller grants access to what it names in the same place. */
  addEnvironment(key: string, value: string): void {
    this.function.addEnvironment(key, value);
  }

  /** Acknowledges one cdk-nag finding on the role's policy, where the grants land, with why it is needed. */
  acknowledgeGrant(id: string, reason: string): void {
    Validations.of(cfnOf(this.role.node.findChild('DefaultPolicy'))).acknowledge({ id, reason });
  }
}
