/**
 * The two APIs as deployed: the REST API (proxy integration to the api function, IAM everywhere but GET /health,
 * validated, logged, traced, throttled) and the WebSocket API (IAM at $connect, the message routes, a logged stage,
 * POST @connections granted on that API only), and the stack outputs that point at them.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CfnMethod } from 'aws-cdk-lib/aws-apigateway';
import { pathsOf } from '../../functions/rest.js';
import type { ControlPlaneFunctionName } from '../../infra/function-catalogue.js';
import { type Json, type Synthesized, actionsOf, logicalId, resourcesOf, statementsOfRole, synthControlPlane } from './support.js';

let synth: Synthesized;
beforeAll(() => {
  synth = synthControlPlane();
});
afterAll(() => synth.dispose());

const resources = (type: string) => Object.values(synth.template.findResources(type)) as Array<{ Properties: Json }>;
const fnOf = (name: ControlPlaneFunctionName) => {
  const fn = synth.stack.functions.get(name);
  if (!fn) throw new Error(`no ${name} function`);
  return fn;
};
const fnArn = (name: ControlPlaneFunctionName) => logicalId(fnOf(name).function);

describe('REST API', () => {
  /** Each method of the REST API: its resource path, HTTP method, authorization and the function it is integrated with. */
  const methods = () =>
    synth.stack.restApi.api.methods.map((method) => {
      const cfnMethod = method.node.defaultChild as CfnMethod;
      const cfn = ((synth.template.toJSON().Resources as Record<string, { Properties: Json }>)[synth.stack.getLogicalId(cfnMethod)]?.Properties ?? {}) as Json;
      const integration = JSON.stringify(synth.stack.resolve(cfnMethod.integration));
      return {
        path: method.resource.path,
        httpMethod: method.httpMethod,
        auth: synth.stack.resolve(cfnMethod.authorizationType) as string,
        fn: (['api', 'analysis'] as const).find((name) => integration.includes(fnArn(name))),
        cfn,
      };
    });

  it('integrates each path of the analysis function\'s routes with it (functions/rest.ts), every other path with the api function, with IAM everywhere but GET /health', () => {
    const all = methods();
    expect(all.filter((m) => m.fn === 'api').map(({ path, httpMethod, auth }) => ({ path, httpMethod, auth }))).toEqual(
      expect.arrayContaining([
        { path: '/health', httpMethod: 'GET', auth: 'NONE' },
        { path: '/{proxy+}', httpMethod: 'ANY', auth: 'AWS_IAM' },
      ]),
    );
    const analysis = all.filter((m) => m.fn === 'analysis');
    expect(analysis.map((m) => m.path.slice(1)).sort()).toEqual(pathsOf('analysis').sort());
    expect(pathsOf('analysis')).toEqual(expect.arrayContaining(['openapi.json', 'api/chaos/experiments/{id}/report', 'api/analysis/hypotheses']));
    for (const method of analysis) expect(method).toMatchObject({ httpMethod: 'ANY', auth: 'AWS_IAM' });
    expect(all).toHaveLength(2 + pathsOf('analysis').length);
    for (const method of resources('AWS::ApiGateway::Method')) expect(method.Properties.Integration).toMatchObject({ Type: 'AWS_PROXY' });
  });

  it('sends an experiment\'s report page to the analysis function, its id validated as a path parameter', () => {
    const report = methods().find((m) => m.path === '/api/chaos/experiments/{id}/report');
    expect(report?.fn).toBe('analysis');
    expect(report?.cfn).toMatchObject({ RequestParameters: { 'method.request.path.id': true }, RequestValidatorId: expect.anything() });
    synth.template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'apigateway.amazonaws.com',
      FunctionName: { 'Fn::GetAtt': [fnArn('analysis'), 'Arn'] },
      SourceArn: { 'Fn::Join': ['', Match.arrayWith(['/*/api/chaos/experiments/*/report'])] },
    });
  });

  it('validates the proxy path parameter', () => {
    synth.template.hasResourceProperties('AWS::ApiGateway::RequestValidator', { ValidateRequestParameters: true });
    synth.template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'ANY',
      RequestParameters: { 'method.request.path.proxy': true },
      RequestValidatorId: Match.anyValue(),
    });
  });

  it('has a regional stage with JSON access logs, execution logs without data, tracing and throttling', () => {
    synth.template.hasResourceProperties('AWS::ApiGateway::RestApi', { EndpointConfiguration: { Types: ['REGIONAL'] } });
    const [stage] = resources('AWS::ApiGateway::Stage');
    expect(stage?.Properties).toMatchObject({
      StageName: 'v1',
      TracingEnabled: true,
      MethodSettings: [
        { HttpMethod: '*', ResourcePath: '/*', LoggingLevel: 'INFO', DataTraceEnabled: false, ThrottlingRateLimit: 20, ThrottlingBurstLimit: 40 },
      ],
    });
    const accessLog = stage?.Properties.AccessLogSetting as { Format: string; DestinationArn: unknown };
    expect(() => JSON.parse(accessLog.Format)).not.toThrow();
    expect(JSON.stringify(accessLog.DestinationArn)).toContain(logicalId(synth.stack.restApi.accessLogs));
  });

  it('lets API Gateway invoke the api function', () => {
    synth.template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'apigateway.amazonaws.com',
      FunctionName: { 'Fn::GetAtt': [fnArn('api'), 'Arn'] },
    });
  });
});

describe('WebSocket API', () => {
  it('selects routes by the action in the message body', () => {
    synth.template.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'WEBSOCKET', RouteSelectionExpression: '$request.body.action' });
  });

  it('has $connect with IAM authorization and $disconnect, subscribe, unsubscribe and $default on the right functions', () => {
    const integrations = new Map(
      Object.entries(synth.template.findResources('AWS::ApiGatewayV2::Integration')).map(([id, r]) => [id, JSON.stringify(r.Properties)]),
    );
    const routes = new Map(resources('AWS::ApiGatewayV2::Route').map((r) => [r.Properties.RouteKey as string, r.Properties]));
    expect([...routes.keys()].sort()).toEqual(['$connect', '$default', '$disconnect', 'subscribe', 'unsubscribe']);
    expect(routes.get('$connect')?.AuthorizationType).toBe('AWS_IAM');
    for (const key of ['$disconnect', '$default', 'subscribe', 'unsubscribe']) expect(routes.get(key)?.AuthorizationType ?? 'NONE').toBe('NONE');

    const target = (key: string) => {
      const integrationId = (routes.get(key)?.Target as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1].map((p) => JSON.stringify(p)).join('');
      const id = [...integrations.keys()].find((candidate) => integrationId.includes(candidate));
      return id ? integrations.get(id) : undefined;
    };
    expect(target('$connect')).toContain(fnArn('ws-connect'));
    expect(target('$disconnect')).toContain(fnArn('ws-disconnect'));
    for (const key of ['subscribe', 'unsubscribe', '$default']) expect(target(key)).toContain(fnArn('ws-subscribe'));
  });

  it('deploys a stage with JSON access logs, execution logs and throttling', () => {
    const [stage] = resources('AWS::ApiGatewayV2::Stage');
    expect(stage?.Properties).toMatchObject({
      StageName: 'v1',
      AutoDeploy: true,
      DefaultRouteSettings: { LoggingLevel: 'INFO', DataTraceEnabled: false, ThrottlingRateLimit: 20, ThrottlingBurstLimit: 40 },
    });
    const accessLog = stage?.Properties.AccessLogSettings as { Format: string; DestinationArn: unknown };
    expect(JSON.parse(accessLog.Format)).toMatchObject({ requestId: '$context.requestId', connectionId: '$context.connectionId' });
    expect(JSON.stringify(accessLog.DestinationArn)).toContain(logicalId(synth.stack.webSocket.accessLogs));
  });

  it('grants POST @connections on this API stage, and only to the functions that answer on connections', () => {
    const apiId = logicalId(synth.stack.webSocket.api);
    const posting = [...synth.stack.functions]
      .filter(([, fn]) =>
        statementsOfRole(synth.template, logicalId(fn.role)).some((s) => actionsOf(s).includes('execute-api:ManageConnections')),
      )
      .map(([name]) => name);
    expect(posting.sort()).toEqual(['ws-broadcast', 'ws-subscribe']);
    for (const name of posting) {
      const statements = statementsOfRole(synth.template, logicalId(fnOf(name).role)).filter((s) =>
        actionsOf(s).includes('execute-api:ManageConnections'),
      );
      const arns = JSON.stringify(statements.flatMap(resourcesOf));
      expect(arns).toContain(`{"Ref":"${apiId}"},"/v1/POST/@connections/*"`);
      expect(statements.flatMap(resourcesOf)).toHaveLength(1);
    }
  });
});

describe('API Gateway account logging', () => {
  it('sets the account logging role, kept when the stack is deleted, and both stages wait for it', () => {
    const accounts = synth.template.findResources('AWS::ApiGateway::Account');
    const [accountId] = Object.keys(accounts);
    expect(accounts[accountId ?? '']?.DeletionPolicy).toBe('Retain');
    for (const type of ['AWS::ApiGateway::Stage', 'AWS::ApiGatewayV2::Stage']) {
      const stages = Object.values(synth.template.findResources(type)) as Array<{ DependsOn?: string[] }>;
      expect(stages[0]?.DependsOn).toContain(accountId);
    }
  });

  it('can be left to an account that already has one', () => {
    const without = synthControlPlane({ props: { apiGatewayAccountLogging: false } });
    try {
      without.template.resourceCountIs('AWS::ApiGateway::Account', 0);
    } finally {
      without.dispose();
    }
  });
});

describe('outputs', () => {
  it('names the REST and WebSocket URLs, the bus, the table and the orchestrator', () => {
    const outputs = synth.template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs.EventBusName?.Value).toEqual({ Ref: logicalId(synth.stack.bus.eventBus) });
    expect(outputs.TableName?.Value).toEqual({ Ref: logicalId(synth.stack.table.table) });
    expect(outputs.OrchestratorArn?.Value).toEqual({ Ref: logicalId(synth.stack.stateMachines.orchestrator) });
    expect(JSON.stringify(outputs.RestApiUrl?.Value)).toContain(logicalId(synth.stack.restApi.api));
    expect(JSON.stringify(outputs.WebSocketUrl?.Value)).toContain('wss://');
  });
});
