/**
 * Deployer choices read from CDK context (`cdk.json`, or `-c key=value` on the command line), checked once so a typo
 * fails the synth instead of deploying a default.
 */
import type { App } from 'aws-cdk-lib';
import { assertSecretArn, type ChaosDuckStackProps } from './chaosduck-stack.js';
import { assertEksClusterNames } from './constructs/eks-access.js';
import { assertTargetRoleArns } from './constructs/target-role-policy.js';

export const CONTEXT_KEYS = {
  chaosTargetTagKey: 'chaosduck:targetTagKey',
  maxTimeoutSeconds: 'chaosduck:maxTimeoutSeconds',
  productionPattern: 'chaosduck:productionPattern',
  apiGatewayAccountLogging: 'chaosduck:apiGatewayAccountLogging',
  includeExecutionData: 'chaosduck:includeExecutionData',
  gameDaysFile: 'chaosduck:gameDaysFile',
  targetRoleArns: 'chaosduck:targetRoleArns',
  eksClusters: 'chaosduck:eksClusters',
  agentImage: 'chaosduck:agentImage',
  anthropicSecretArn: 'chaosduck:anthropicSecretArn',
} as const;

export function stackPropsFromContext(app: App): ChaosDuckStackProps {
  const read = (key: string): unknown => app.node.tryGetContext(key);
  const maxTimeoutSeconds = integer(read(CONTEXT_KEYS.maxTimeoutSeconds), CONTEXT_KEYS.maxTimeoutSeconds);
  const productionPattern = text(read(CONTEXT_KEYS.productionPattern), CONTEXT_KEYS.productionPattern);
  if (productionPattern !== undefined) assertPattern(productionPattern, CONTEXT_KEYS.productionPattern);
  return {
    chaosTargetTagKey: text(read(CONTEXT_KEYS.chaosTargetTagKey), CONTEXT_KEYS.chaosTargetTagKey),
    guardrails: { maxTimeoutSeconds, productionPattern },
    apiGatewayAccountLogging: flag(read(CONTEXT_KEYS.apiGatewayAccountLogging), CONTEXT_KEYS.apiGatewayAccountLogging),
    includeExecutionData: flag(read(CONTEXT_KEYS.includeExecutionData), CONTEXT_KEYS.includeExecutionData),
    gameDaysFile: text(read(CONTEXT_KEYS.gameDaysFile), CONTEXT_KEYS.gameDaysFile),
    targetRoleArns: roleArns(read(CONTEXT_KEYS.targetRoleArns), CONTEXT_KEYS.targetRoleArns),
    eksClusters: clusterNames(read(CONTEXT_KEYS.eksClusters), CONTEXT_KEYS.eksClusters),
    agentImage: text(read(CONTEXT_KEYS.agentImage), CONTEXT_KEYS.agentImage),
    anthropicSecretArn: secretArn(read(CONTEXT_KEYS.anthropicSecretArn), CONTEXT_KEYS.anthropicSecretArn),
  };
}

function secretArn(value: unknown, key: string): string | undefined {
  const arn = text(value, key);
  if (arn !== undefined) assertSecretArn(arn, `context ${key}`);
  return arn;
}

function text(value: unknown, key: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') throw new Error(`context ${key} must be a non-empty string`);
  return value;
}

// Values given with -c arrive as strings, values from cdk.json as JSON; both are accepted.
function integer(value: unknown, key: string): number | undefined {
  if (value === undefined) return undefined;
  const number = typeof value === 'string' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isInteger(number) || number < 1) throw new Error(`context ${key} must be a positive integer`);
  return number;
}

function flag(value: unknown, key: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new Error(`context ${key} must be true or false`);
}

function roleArns(value: unknown, key: string): string[] | undefined {
  const list = stringList(value, key, 'IAM role ARNs');
  if (list) assertTargetRoleArns(list, `context ${key}`);
  return list;
}

function clusterNames(value: unknown, key: string): string[] | undefined {
  const list = stringList(value, key, 'EKS cluster names');
  if (list) assertEksClusterNames(list, `context ${key}`);
  return list;
}

// A JSON list from cdk.json; from -c, a JSON list or comma-separated values.
function stringList(value: unknown, key: string, what: string): string[] | undefined {
  if (value === undefined) return undefined;
  let list = value;
  if (typeof value === 'string') {
    try {
      list = value.trim().startsWith('[') ? JSON.parse(value) : value.split(',').map((item) => item.trim()).filter((item) => item !== '');
    } catch {
      throw new Error(`context ${key} must be a list of ${what}`);
    }
  }
  if (!Array.isArray(list) || !list.every((item) => typeof item === 'string')) throw new Error(`context ${key} must be a list of ${what}`);
  return list;
}

// The functions compile it with `new RegExp(pattern, 'i')` at their first invocation; a bad one fails here instead.
function assertPattern(pattern: string, key: string): void {
  try {
    new RegExp(pattern, 'i');
  } catch {
    throw new Error(`context ${key} is not a valid regular expression: ${pattern}`);
  }
}
