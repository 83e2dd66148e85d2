/**
 * The error catalogue: every class has a stable name (ASL Retry/Catch match on it), code and HTTP status.
 */
import { describe, expect, it } from 'vitest';
import {
  BlastRadiusExceededError,
  ChaosDuckError,
  ConflictError,
  EmergencyStopActiveError,
  ExperimentTimeoutError,
  GuardrailError,
  HealthCheckThresholdError,
  StopConditionError,
  InjectionFailedError,
  NoTargetsError,
  NotFoundError,
  ProductionGuardError,
  ProviderUnavailableError,
  TargetLeasedError,
  TimeoutCapExceededError,
  ValidationError,
  errorMessage,
  errorName,
  fieldIssues,
  fieldPath,
} from '../../../shared/errors.js';
import { experimentSchema } from '../../../shared/model/experiment.js';

type Case = [make: () => ChaosDuckError, name: string, code: string, status: number, guardrail: boolean];

const CATALOGUE: Case[] = [
  [() => new ValidationError([{ field: 'name', message: 'bad' }]), 'ValidationError', 'VALIDATION', 400, false],
  [() => new NotFoundError('no such experiment'), 'NotFoundError', 'NOT_FOUND', 404, false],
  [() => new BlastRadiusExceededError('too wide'), 'BlastRadiusExceededError', 'BLAST_RADIUS_EXCEEDED', 409, true],
  [() => new NoTargetsError('nothing'), 'NoTargetsError', 'NO_TARGETS', 409, true],
  [() => new TimeoutCapExceededError('too long'), 'TimeoutCapExceededError', 'TIMEOUT_CAP_EXCEEDED', 409, true],
  [() => new ProductionGuardError('prod'), 'ProductionGuardError', 'PRODUCTION_GUARD', 409, true],
  [() => new TargetLeasedError('busy'), 'TargetLeasedError', 'TARGET_LEASED', 409, true],
  [() => new EmergencyStopActiveError('stop'), 'EmergencyStopActiveError', 'EMERGENCY_STOP_ACTIVE', 503, true],
  [() => new ProviderUnavailableError('no aws'), 'ProviderUnavailableError', 'PROVIDER_UNAVAILABLE', 503, true],
  [() => new HealthCheckThresholdError('unhealthy'), 'HealthCheckThresholdError', 'HEALTH_CHECK_THRESHOLD', 500, false],
  [() => new StopConditionError('alarm'), 'StopConditionError', 'STOP_CONDITION', 500, false],
  [() => new ExperimentTimeoutError('late'), 'ExperimentTimeoutError', 'EXPERIMENT_TIMEOUT', 500, false],
  [() => new InjectionFailedError('failed'), 'InjectionFailedError', 'INJECTION_FAILED', 500, false],
  [() => new ConflictError('conflict'), 'ConflictError', 'CONFLICT', 409, false],
];

describe('error catalogue', () => {
  it.each(CATALOGUE)('%#: has name %s, code %s and status %d', (make, name, code, status, guardrail) => {
    // Act
    const error = make();

    // Assess
    expect(error.name).toBe(name);
    expect(error.code).toBe(code);
    expect(error.status).toBe(status);
    expect(error).toBeInstanceOf(Error);
    expect(error).toBeInstanceOf(ChaosDuckError);
    expect(error instanceof GuardrailError).toBe(guardrail);
    expect(errorName(error)).toBe(name);
    expect(String(error)).toMatch(new RegExp(`^${name}: `));
  });

  it('gives every class a different name and code', () => {
    // Act
    const errors = CATALOGUE.map(([make]) => make());

    // Assess
    expect(new Set(errors.map((e) => e.name)).size).toBe(CATALOGUE.length);
    expect(new Set(errors.map((e) => e.code)).size).toBe(CATALOGUE.length);
  });

  it('keeps the message and cause it was given', () => {
    // Prepare
    const cause = new Error('EC2 said no');

    // Act
    const error = new InjectionFailedError('stopping i-0123456789abcdef0 failed', { cause });

    // Assess
    expect(error.message).toBe('stopping i-0123456789abcdef0 failed');
    expect(error.cause).toBe(cause);
    expect(errorMessage(error)).toBe('stopping i-0123456789abcdef0 failed');
  });
});

describe('ValidationError', () => {
  it('lists every issue in its message, and (root) for the document itself', () => {
    // Prepare
    const issues = [
      { field: 'safety.timeout_seconds', message: 'Too small' },
      { field: '', message: 'expected object' },
    ];

    // Act
    const error = new ValidationError(issues);

    // Assess
    expect(error.message).toBe('Invalid experiment: safety.timeout_seconds: Too small; (root): expected object');
    expect(error.issues).toBe(issues);
  });

  it('says what was invalid', () => {
    // Act
    const error = new ValidationError([{ field: '', message: 'not YAML' }], 'file');

    // Assess
    expect(error.message).toBe('Invalid file: (root): not YAML');
  });
});

describe('errorName and errorMessage', () => {
  it.each([
    ['a plain Error', new TypeError('boom'), 'TypeError', 'boom'],
    ['a string', 'boom', 'Error', 'boom'],
    ['a number', 42, 'Error', '42'],
    ['undefined', undefined, 'Error', 'undefined'],
  ])('reads %s', (_, value, name, message) => {
    // Act / Assess
    expect(errorName(value)).toBe(name);
    expect(errorMessage(value)).toBe(message);
  });
});

describe('fieldPath', () => {
  it.each([
    [[], ''],
    [['name'], 'name'],
    [['safety', 'timeout_seconds'], 'safety.timeout_seconds'],
    [['probes', 0, 'properties', 'url'], 'probes[0].properties.url'],
    [['target', 'instance_ids', 3], 'target.instance_ids[3]'],
    [['matrix', 0, 1], 'matrix[0][1]'],
    [[2, 'name'], '[2].name'],
    [['target', 'labels', 'app.kubernetes.io/name'], 'target.labels.app.kubernetes.io/name'],
  ])('formats %j as %j', (path, expected) => {
    // Act
    const field = fieldPath(path);

    // Assess
    expect(field).toBe(expected);
  });
});

describe('fieldIssues', () => {
  it('keeps path and message of an ordinary issue', () => {
    // Act
    const issues = fieldIssues([{ code: 'too_small', path: ['probes', 1, 'name'], message: 'Too small' }]);

    // Assess
    expect(issues).toEqual([{ field: 'probes[1].name', message: 'Too small' }]);
  });

  it('names each unknown key as a field of its own', () => {
    // Act
    const issues = fieldIssues([
      { code: 'unrecognized_keys', path: ['parameters'], keys: ['latncy_ms', 'jiter_ms'], message: 'Unrecognized keys' },
      { code: 'unrecognized_keys', path: [], keys: ['colour'], message: 'Unrecognized key' },
    ]);

    // Assess
    expect(issues).toEqual([
      { field: 'parameters.latncy_ms', message: 'unknown field' },
      { field: 'parameters.jiter_ms', message: 'unknown field' },
      { field: 'colour', message: 'unknown field' },
    ]);
  });

  it('gives the reason for a bad record key instead of zod’s generic message', () => {
    // Act
    const issues = fieldIssues([
      {
        code: 'invalid_key',
        path: ['target', 'labels', '-app'],
        message: 'Invalid key in record',
        issues: [{ message: 'not a valid label key' }],
      },
    ]);

    // Assess
    expect(issues).toEqual([{ field: 'target.labels.-app', message: 'not a valid label key' }]);
  });

  it('turns real zod issues into readable paths', () => {
    // Prepare
    const result = experimentSchema.safeParse({
      name: 'x',
      chaos_type: 'pod_delete',
      target: { labels: { app: 'nginx' } },
      safety: { timeout_seconds: -1 },
      probes: [{ name: 'web', type: 'http', properties: { url: 'gopher://x', extra: 1 } }],
    });
    expect(result.success).toBe(false);

    // Act
    const issues = fieldIssues(result.error?.issues ?? []);

    // Assess
    expect(issues.map((i) => i.field).sort()).toEqual([
      'probes[0].properties.extra',
      'probes[0].properties.url',
      'safety.timeout_seconds',
    ]);
  });
});
