/**
 * The REST API: every route goes to one function through the proxy integration, which routes by itself (paths with
 * functions of their own aside: the analysis function's, one resource each), and every route needs SigV4 (IAM)
 * authorization except `GET /health`. The stage is throttled, traced and logged (JSON access logs, execution logs
 * without request data).
 */
import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  AuthorizationType,
  EndpointType,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  RestApi,
} from 'aws-cdk-lib/aws-apigateway';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct, type IDependable } from 'constructs';
import { cfnOf } from './cfn-of.js';

export interface ThrottleLimits {
  /** Steady-state requests per second across the stage. */
  readonly rateLimit: number;
  /** Requests that may arrive at once above the steady rate. */
  readonly burstLimit: number;
}

export interface ControlPlaneRestApiProps {
  /** The function that serves every route but `routes`. */
  readonly handler: IFunction;
  /**
   * Paths served by functions of their own, as API Gateway resource paths: `api/analysis/{proxy+}` (everything beneath
   * `api/analysis`), `api/chaos/experiments/{id}/report` (that path alone).
   */
  readonly routes?: readonly { path: string; handler: IFunction }[];
  /**
   * The one path served without authorization, for GET only.
   * @default 'health'
   */
  readonly healthPath?: string;
  /** @default 'v1' */
  readonly stageName?: string;
  /**
   * Stage throttling; a handful of operators and CI jobs drive the control plane.
   * @default { rateLimit: 20, burstLimit: 40 }
   */
  readonly throttle?: ThrottleLimits;
  /** @default RetentionDays.THREE_MONTHS */
  readonly logRetention?: RetentionDays;
  /**
   * Something the stage must wait for before it can log, i.e. the account's API Gateway logging role.
   * @default - none: the account already has one
   */
  readonly loggingDependency?: IDependable;
}

export class ControlPlaneRestApi extends Construct {
  readonly api: RestApi;
  readonly accessLogs: LogGroup;

  constructor(scope: Construct, id: string, props: ControlPlaneRestApiProps) {
    super(scope, id);
    const throttle = props.throttle ?? { rateLimit: 20, burstLimit: 40 };
    this.accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: props.logRetention ?? RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.api = new RestApi(this, 'Api', {
      description: 'ChaosDuck control plane REST API',
      endpointTypes: [EndpointType.REGIONAL],
      // The account-wide logging role is managed on its own (ApiGatewayAccountLogging), not per API.
      cloudWatchRole: false,
      defaultMethodOptions: { authorizationType: AuthorizationType.IAM },
      deployOptions: {
        stageName: props.stageName ?? 'v1',
        tracingEnabled: true,
        metricsEnabled: true,
        loggingLevel: MethodLoggingLevel.INFO,
        // Request and response bodies carry experiment specs; they stay out of the execution logs.
        dataTraceEnabled: false,
        throttlingRateLimit: throttle.rateLimit,
        throttlingBurstLimit: throttle.burstLimit,
        accessLogDestination: new LogGroupLogDestination(this.accessLogs),
        accessLogFormat: AccessLogFormat.jsonWithStandardFields({
          ip: true,
          caller: true,
          user: true,
          requestTime: true,
          httpMethod: true,
          resourcePath: true,
          status: true,
          protocol: true,
          responseLength: true,
        }),
      },
    });
    if (props.loggingDependency) this.api.deploymentStage.node.addDependency(props.loggingDependency);

    const integration = new LambdaIntegration(props.handler);
    const validator = this.api.addRequestValidator('PathValidator', { validateRequestParameters: true, validateRequestBody: false });
    const health = this.api.root
      .addResource(props.healthPath ?? 'health')
      .addMethod('GET', integration, { authorizationType: AuthorizationType.NONE });
    const proxy = this.api.root.addResource('{proxy+}').addMethod('ANY', integration, {
      requestParameters: { 'method.request.path.proxy': true },
      requestValidator: validator,
    });
    // A more specific path wins over the root's greedy {proxy+}, in API Gateway as in the local server. The resources
    // made on the way to one (`api/chaos/experiments/{id}`) have no method, so API Gateway passes their requests on to
    // the root's {proxy+}: it picks a resource by its path and method together.
    const routed = (props.routes ?? []).map(({ path, handler }) => {
      const resource = this.api.root.resourceForPath(path);
      return resource.addMethod('ANY', new LambdaIntegration(handler), {
        requestParameters: Object.fromEntries([...resource.path.matchAll(/\{(\w+)\+?\}/g)].map(([, name]) => [`method.request.path.${name}`, true])),
        requestValidator: validator,
      });
    });

    Validations.of(cfnOf(this.api)).acknowledge({
      id: 'AwsSolutions-APIG2',
      reason: 'The gateway validates request parameters; bodies are validated by the API function against the zod schemas that define the experiment model (shared/model), which a gateway JSON-schema copy would drift from',
    });
    Validations.of(cfnOf(this.api.deploymentStage)).acknowledge({
      id: 'AwsSolutions-APIG3',
      reason: 'Every route but the health check needs SigV4 (IAM) credentials of this account and the stage is throttled; a WAF web ACL would add a monthly cost to each deployment of a control plane used by a few operators (deployers can associate one)',
    });
    const iamReason = 'Authorized with SigV4 (IAM): callers are IAM principals of this account (operators, CI, the CLI) and the control plane has no user pool';
    for (const method of [proxy, ...routed]) Validations.of(cfnOf(method)).acknowledge({ id: 'AwsSolutions-COG4', reason: iamReason });
    const healthReason = 'The health check is public on purpose (uptime checks, load balancers): GET only, it reports liveness and whether the emergency stop is on, and changes nothing';
    Validations.of(cfnOf(health)).acknowledge(
      { id: 'AwsSolutions-APIG4', reason: healthReason },
      { id: 'AwsSolutions-COG4', reason: healthReason },
    );
  }

  /** The stage's base URL, e.g. `https://<id>.execute-api.<region>.amazonaws.com/v1/`. */
  get url(): string {
    return this.api.url;
  }
}
