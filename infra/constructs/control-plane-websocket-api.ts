/**
 * The WebSocket API that streams experiment progress. Clients connect with SigV4 (IAM) credentials, then send
 * `{"action": "subscribe" | "unsubscribe", "experimentId": ...}`; anything else reaches `$default`, which answers
 * with what was wrong. Functions that answer on a connection are granted POST on this API's @connections only.
 */
import { Aws, type CfnElement, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { type CfnStage, LogGroupLogDestination, WebSocketApi, WebSocketStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { WebSocketIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct, type IDependable } from 'constructs';
import { cfnOf } from './cfn-of.js';
import type { ThrottleLimits } from './control-plane-rest-api.js';

/** The message routes; `$request.body.action` selects among them. */
export const MESSAGE_ROUTES = ['subscribe', 'unsubscribe'] as const;

export interface ControlPlaneWebSocketApiProps {
  /** `$connect` (IAM-authorized): records the connection. */
  readonly connectHandler: IFunction;
  /** `$disconnect`: forgets it. */
  readonly disconnectHandler: IFunction;
  /** `subscribe`, `unsubscribe` and `$default`: changes subscriptions and answers on the connection. */
  readonly messageHandler: IFunction;
  /** @default 'v1' */
  readonly stageName?: string;
  /** @default { rateLimit: 20, burstLimit: 40 } */
  readonly throttle?: ThrottleLimits;
  /** @default RetentionDays.THREE_MONTHS */
  readonly logRetention?: RetentionDays;
  /**
   * Something the stage must wait for before it can log, i.e. the account's API Gateway logging role.
   * @default - none: the account already has one
   */
  readonly loggingDependency?: IDependable;
}

export class ControlPlaneWebSocketApi extends Construct {
  readonly api: WebSocketApi;
  readonly stage: WebSocketStage;
  readonly accessLogs: LogGroup;

  constructor(scope: Construct, id: string, props: ControlPlaneWebSocketApiProps) {
    super(scope, id);
    const throttle = props.throttle ?? { rateLimit: 20, burstLimit: 40 };
    const messages = new WebSocketLambdaIntegration('Messages', props.messageHandler);
    this.api = new WebSocketApi(this, 'Api', {
      description: 'ChaosDuck control plane: experiment progress over WebSocket',
      routeSelectionExpression: '$request.body.action',
      connectRouteOptions: {
        integration: new WebSocketLambdaIntegration('Connect', props.connectHandler),
        authorizer: new WebSocketIamAuthorizer(),
      },
      disconnectRouteOptions: { integration: new WebSocketLambdaIntegration('Disconnect', props.disconnectHandler) },
      defaultRouteOptions: { integration: messages },
    });
    for (const route of MESSAGE_ROUTES) this.api.addRoute(route, { integration: messages });

    this.accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: props.logRetention ?? RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.stage = new WebSocketStage(this, 'Stage', {
      webSocketApi: this.api,
      stageName: props.stageName ?? 'v1',
      autoDeploy: true,
      throttle,
      accessLogSettings: {
        destination: new LogGroupLogDestination(this.accessLogs),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            connectionId: '$context.connectionId',
            eventType: '$context.eventType',
            routeKey: '$context.routeKey',
            status: '$context.status',
            requestTime: '$context.requestTime',
            ip: '$context.identity.sourceIp',
            caller: '$context.identity.caller',
            userArn: '$context.identity.userArn',
            integrationError: '$context.integrationErrorMessage',
          }),
        ),
      },
    });
    // Execution logs (errors and info, no message bodies) go through the stage's default route settings, which the
    // L2 stage fills with the throttle only.
    const cfnStage = cfnOf(this.stage) as CfnStage;
    cfnStage.defaultRouteSettings = {
      throttlingRateLimit: throttle.rateLimit,
      throttlingBurstLimit: throttle.burstLimit,
      loggingLevel: 'INFO',
      dataTraceEnabled: false,
    };
    if (props.loggingDependency) this.stage.node.addDependency(props.loggingDependency);

    const afterConnect =
      'API Gateway authorizes a WebSocket connection once, at $connect (IAM here); messages on this route arrive on that already authorized connection and cannot carry an authorizer';
    for (const route of [...MESSAGE_ROUTES, '$disconnect', '$default']) {
      const construct = this.api.node.findChild(`${route}-Route`);
      Validations.of(cfnOf(construct)).acknowledge({ id: 'AwsSolutions-APIG4', reason: afterConnect });
    }
  }

  /** `wss://…/<stage>`, for clients. */
  get url(): string {
    return this.stage.url;
  }

  /** `https://…/<stage>`, the @connections endpoint functions post to (`WS_ENDPOINT`). */
  get callbackUrl(): string {
    return this.stage.callbackUrl;
  }

  /** PostToConnection on this API's stage: answering and broadcasting on connections, not closing or reading them. */
  grantPostToConnections(grantee: IGrantable): Grant {
    return Grant.addToPrincipal({ grantee, actions: ['execute-api:ManageConnections'], resourceArns: [this.connectionsArn] });
  }

  /** The cdk-nag IAM5 finding id of the ARN `grantPostToConnections` names. */
  get connectionsFinding(): string {
    const apiId = Stack.of(this).getLogicalId(cfnOf(this.api) as CfnElement);
    return `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${apiId}>/${this.stage.stageName}/POST/@connections/*]`;
  }

  private get connectionsArn(): string {
    // Pseudo parameters rather than the stack's environment, so the nag finding reads the same everywhere.
    return `arn:${Aws.PARTITION}:execute-api:${Aws.REGION}:${Aws.ACCOUNT_ID}:${this.api.apiId}/${this.stage.stageName}/POST/@connections/*`;
  }
}
