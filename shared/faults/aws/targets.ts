/**
 * Helpers shared by the AWS faults: building `TargetRef`s that carry region and role (so a revert in another process
 * reaches the same account and region), turning tag selectors into EC2-style filters, naming AWS errors, and bounded
 * polling for "wait until the resource is back" steps. Nothing here is specific to one fault or one service.
 */
import type { TargetRef } from '../driver.js';
import type { JsonObject } from '../../journal/activity.js';
import { ProviderUnavailableError, ValidationError } from '../../errors.js';

export const AWS_PROVIDER = 'aws';

/** The region/role part of an AWS target selector. */
export interface AwsLocation {
  region?: string | undefined;
  role_arn?: string | undefined;
}

/**
 * A resolved AWS target. `details` always holds `region` and `role_arn` (null when the selector named none), which
 * `targetLocation` in `fault.ts` reads back at revert time.
 */
export function awsTargetRef(id: string, location: AwsLocation, labels: Record<string, string>, details: JsonObject = {}): TargetRef {
  return {
    provider: AWS_PROVIDER,
    id,
    labels,
    details: { region: location.region ?? null, role_arn: location.role_arn ?? null, ...details },
  };
}

/** `targetLocation` returns `undefined` for null (details are JSON, so "not given" is stored as null). */
export function locationOf(target: TargetRef): { region: string | undefined; roleArn: string | undefined } {
  const { region, role_arn: roleArn } = target.details as { region?: string | null; role_arn?: string | null };
  return { region: region ?? undefined, roleArn: roleArn ?? undefined };
}

/** AWS `[{Key, Value}]` tags as a plain record (tags without a key are skipped). */
export function tagsToRecord(tags: ReadonlyArray<{ Key?: string | undefined; Value?: string | undefined }> | undefined): Record<string, string> {
  const record: Record<string, string> = {};
  for (const { Key, Value } of tags ?? []) if (Key !== undefined) record[Key] = Value ?? '';
  return record;
}

export interface AwsFilter {
  Name: string;
  Values: string[];
}

/**
 * A tag selector (`{team: 'payments'}`) plus the selector's own filters (`[{name, values}]`) as EC2-style filters
 * (`tag:team = payments`). Every filter must match (AND); the values of one filter are alternatives (OR).
 */
export function selectorFilters(
  tags: Readonly<Record<string, string>> | undefined,
  filters: ReadonlyArray<{ name: string; values: readonly string[] }> | undefined,
): AwsFilter[] {
  return [
    ...Object.entries(tags ?? {}).map(([key, value]) => ({ Name: `tag:${key}`, Values: [value] })),
    ...(filters ?? []).map(({ name, values }) => ({ Name: name, Values: [...values] })),
  ];
}

/**
 * The SDK's complaints about the control plane's own AWS configuration, as errors a person can act on: no region
 * (the experiment's or the request's to give, at `regionField`), no credentials (the operator's to provide). Any
 * other error is returned as it is.
 */
export function namedConfigurationError(error: unknown, regionField: string): unknown {
  if (!(error instanceof Error)) return error;
  if (/region is missing/i.test(error.message)) {
    return new ValidationError([{ field: regionField, message: `no AWS region: give ${regionField}, or set AWS_REGION for the control plane` }], 'request');
  }
  if (error.name === 'CredentialsProviderError' || /could not load credentials/i.test(error.message)) {
    return new ProviderUnavailableError(
      'no AWS credentials: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (with AWS_ENDPOINT_URL for moto or LocalStack), or run where a role provides them',
    );
  }
  return error;
}

/** The AWS error code of an SDK error (`InvalidInstanceID.NotFound`), or undefined for anything else. */
export function awsErrorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { name, Code, code } = error as { name?: unknown; Code?: unknown; code?: unknown };
  for (const candidate of [Code, code, name]) if (typeof candidate === 'string' && candidate !== 'Error') return candidate;
  return undefined;
}

/**
 * A ValidationError naming each id of `ids` (given at `field`, e.g. `target.instance_ids`) that does not exist, by
 * its index: `target.instance_ids[1]: i-0abc… does not exist in us-east-1`.
 */
export function unknownIdsError(field: string, ids: readonly string[], unknown: ReadonlySet<string>, where: string): ValidationError {
  const issues = ids.flatMap((id, index) => (unknown.has(id) ? [{ field: `${field}[${index}]`, message: `${id} does not exist in ${where}` }] : []));
  return new ValidationError(issues, 'target');
}

