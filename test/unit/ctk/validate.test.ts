/**
 * Chaos Toolkit experiments checked as `chaos validate` checks them, in chaoslib's words (checked against
 * chaostoolkit 1.21.4 / chaostoolkit-lib 1.45.1), every problem at its field instead of the first one only; and what
 * ChaosDuck refuses where Chaos Toolkit would run (python functions it does not run natively, process providers
 * outside the local runtime, Vault). The experiments are this project's own.
 */
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../shared/errors.js';
import { chaosToolkitIssues, isChaosToolkitDocument, validateChaosToolkit, type CtkValidationContext } from '../../../shared/ctk/validate.js';
import { parseDocumentText } from '../../../shared/model/document.js';

const context = (fields: Partial<CtkValidationContext> = {}): CtkValidationContext => ({
  runtime: 'local',
  env: { PATH: process.env.PATH },
  which: (path) => ['echo', 'curl', '/bin/true'].includes(path),
  ...fields,
});

const valid = () => ({
  title: 'The shop answers while a replica is lost',
  description: 'One replica fewer, same answers.',
  tags: ['shop'],
  configuration: { base: 'http://127.0.0.1:8080' },
  'steady-state-hypothesis': {
    title: 'shop answers',
    probes: [{ type: 'probe', name: 'home', tolerance: 200, provider: { type: 'http', url: '${base}/' } }],
  },
  method: [
    { type: 'action', name: 'kill-one', provider: { type: 'python', module: 'chaosk8s.pod.actions', func: 'terminate_pods', arguments: { label_selector: 'app=shop', ns: 'shop' } } },
    { type: 'probe', name: 'still-home', provider: { type: 'http', url: '${base}/' }, pauses: { before: 2 } },
    { ref: 'home' },
  ],
  rollbacks: [{ type: 'action', name: 'say-done', provider: { type: 'process', path: 'echo', arguments: ['done'] } }],
});

const issues = (document: unknown, fields?: Partial<CtkValidationContext>) => chaosToolkitIssues(document, context(fields)).issues;
const messages = (document: unknown, fields?: Partial<CtkValidationContext>) => issues(document, fields).map((i) => `${i.field}: ${i.message}`);

describe('telling a Chaos Toolkit document from a ChaosDuck request', () => {
  it('by its shape', () => {
    expect(isChaosToolkitDocument(valid())).toBe(true);
    expect(isChaosToolkitDocument({ title: 't', description: 'd', method: [] })).toBe(true);
    expect(isChaosToolkitDocument({ name: 'x', chaos_type: 'pod_delete', target: {} })).toBe(false);
    expect(isChaosToolkitDocument([])).toBe(false);
  });
});

describe('a valid experiment', () => {
  it('passes, with its configuration and secrets resolved', () => {
    const document = { ...valid(), secrets: { shop: { token: { type: 'env', key: 'SHOP_TOKEN' }, plain: 'x' } } };
    const validated = validateChaosToolkit(document, context({ env: { SHOP_TOKEN: 's3cret' } }));

    expect(validated).toEqual({ configuration: { base: 'http://127.0.0.1:8080' }, secrets: { shop: { token: 's3cret', plain: 'x' } } });
  });

  it('may have an empty method, to check the steady state only', () => {
    expect(issues({ ...valid(), method: [] })).toEqual([]);
  });
});

describe("chaoslib's messages, every problem at its field", () => {
  it('an empty experiment', () => {
    expect(messages({})).toEqual([': an empty experiment is not an experiment']);
    expect(messages(null)).toEqual([': an empty experiment is not an experiment']);
  });

  it('the top level', () => {
    const { title: _t, description: _d, method: _m, ...rest } = valid();
    expect(messages({ ...rest, tags: ['ok', '', 3], extensions: [{ name: 'x' }, { data: 1 }] })).toEqual([
      'title: experiment requires a title',
      'description: experiment requires a description',
      'tags[1]: experiment tags must be a non-empty string',
      'tags[2]: experiment tags must be a non-empty string',
      'extensions[1].name: All extensions require a non-empty name',
      'method: an experiment requires a method, which can be empty for only checking steady state hypothesis',
    ]);
  });

  it('activities', () => {
    const method = [
      {},
      { ref: '' },
      { name: 'no-type', provider: { type: 'http', url: 'x' } },
      { type: 'thing', name: 't', provider: { type: 'http', url: 'x' } },
      { type: 'action', provider: { type: 'http', url: 'x' } },
      { type: 'action', name: 'no-provider' },
      { type: 'action', name: 'no-provider-type', provider: { url: 'x' } },
      { type: 'action', name: 'odd-provider', provider: { type: 'ssh' } },
      { type: 'action', name: 'bad', provider: { type: 'http', headers: ['x'] }, timeout: '5', pauses: { before: 'soon', after: '${wait}' }, background: 'yes' },
      { type: 'action', name: 'no-path', provider: { type: 'process' } },
      { type: 'action', name: 'missing-binary', provider: { type: 'process', path: 'no-such-tool' } },
      { type: 'action', name: 'no-module', provider: { type: 'python', func: 'f' } },
      { type: 'action', name: 'no-func', provider: { type: 'python', module: 'm' } },
    ];
    expect(messages({ ...valid(), method })).toEqual([
      'method[0]: empty activity is no activity',
      'method[1].ref: reference to activity must be non-empty strings',
      'method[2].type: an activity must have a type',
      "method[3].type: 'thing' is not a supported activity type",
      'method[4].name: an activity must have a name',
      'method[5].provider: an activity requires a provider',
      'method[6].provider.type: a provider must have a type',
      "method[7].provider.type: unknown provider type 'ssh'",
      'method[8].timeout: activity timeout must be a number',
      'method[8].pauses.before: activity before pause must be a number or a pattern to a variable from the configuration or secrets',
      'method[8].background: activity background must be a boolean',
      'method[8].provider.url: a HTTP activity must have a URL',
      'method[8].provider.headers: a HTTP activities expect headers as a mapping',
      'method[9].provider.path: a process activity must have a path',
      "method[10].provider.path: path 'no-such-tool' cannot be found, in activity 'missing-binary'",
      'method[11].provider.module: a Python activity must have a module path',
      'method[12].provider.func: a Python activity must have a function name',
    ]);
  });

  it('a reference that names nothing, in the method and in the rollbacks', () => {
    expect(messages({ ...valid(), method: [{ ref: 'ghost' }], rollbacks: [{ ref: 'home' }, { ref: 'phantom' }] })).toEqual([
      "method[0].ref: referenced activity 'ghost' could not be found in the experiment",
      "rollbacks[1].ref: referenced activity 'phantom' could not be found in the experiment",
    ]);
  });

  it('the hypothesis and its tolerances', () => {
    const probe = (tolerance: unknown) => ({ type: 'probe', name: 'p', provider: { type: 'http', url: 'http://x' }, ...(tolerance === undefined ? {} : { tolerance }) });
    const hypothesis = {
      probes: [
        probe(undefined),
        probe(1.5),
        probe({ type: 'nope' }),
        probe({ type: 'regex' }),
        probe({ type: 'regex', pattern: '([a-z' }),
        probe({ type: 'jsonpath' }),
        probe({ type: 'jsonpath', path: '' }),
        probe({ type: 'range' }),
        probe({ type: 'range', range: 5 }),
        probe({ type: 'range', range: [1, 2, 3] }),
        probe({ type: 'range', range: ['a', 2] }),
        probe({ type: 'range', range: [1, 'b'] }),
        probe({ type: 'probe', name: 'judge', provider: { type: 'http' } }),
        probe({ type: 'jsonpath', path: '$.items[?(@.name="web")]', count: 1 }),
        probe([200, 201, 204]),
      ],
    };
    expect(messages({ ...valid(), method: [], 'steady-state-hypothesis': hypothesis })).toEqual([
      'steady-state-hypothesis.title: hypothesis requires a title',
      'steady-state-hypothesis.probes[0].tolerance: hypothesis probe must have a tolerance entry',
      'steady-state-hypothesis.probes[1].tolerance: hypothesis probe tolerance must either be an integer, a string, a boolean or a pair of values for boundaries. It can also be a dictionary which is a probe activity definition that takes an argument called `value` with the value of the probe itself to be validated',
      "steady-state-hypothesis.probes[2].tolerance: hypothesis probe tolerance type 'nope' is unsupported",
      'steady-state-hypothesis.probes[3].tolerance: hypothesis regex probe tolerance must have a `pattern` key',
      expect.stringMatching(/^steady-state-hypothesis\.probes\[4\]\.tolerance: hypothesis probe tolerance pattern \(\[a-z seems invalid: /),
      'steady-state-hypothesis.probes[5].tolerance: hypothesis jsonpath probe tolerance must have a `path` key',
      'steady-state-hypothesis.probes[6].tolerance: hypothesis probe tolerance JSON path cannot be empty',
      'steady-state-hypothesis.probes[7].tolerance: hypothesis range probe tolerance must have a `range` key',
      'steady-state-hypothesis.probes[8].tolerance: hypothesis range must be a sequence',
      'steady-state-hypothesis.probes[9].tolerance: hypothesis range sequence must be made of two values',
      'steady-state-hypothesis.probes[10].tolerance: hypothesis range lower boundary must be a number',
      'steady-state-hypothesis.probes[11].tolerance: hypothesis range upper boundary must be a number',
      'steady-state-hypothesis.probes[12].tolerance: a HTTP activity must have a URL',
    ]);
  });

  it('configuration and secrets from an environment that lacks them', () => {
    const document = {
      ...valid(),
      configuration: { region: { type: 'env', key: 'NO_REGION' }, port: { type: 'env', key: 'PORT', env_var_type: 'int' }, fallback: { type: 'env', key: 'NOPE', default: 'x' }, odd: { type: 'env', key: 'PORT', env_var_type: 'decimal' } },
      secrets: { aws: { key: { type: 'env', key: 'NO_KEY' }, vaulted: { type: 'vault', path: 'secret/x' } } },
    };
    expect(messages(document, { env: { PORT: 'eighty' } })).toEqual([
      'configuration.region: Configuration makes reference to an environment key that does not exist: NO_REGION',
      "configuration.port: PORT cannot be read as int: invalid literal for int(): 'eighty'",
      'configuration.odd.env_var_type: variable type can only be: bool, str, int, float, bytes or json',
      'secrets.aws.key: Secrets make reference to an environment key that does not exist: NO_KEY',
      'secrets.aws.vaulted: Vault secrets are not read by ChaosDuck: give the value through the environment (type: env)',
    ]);
  });

  it('controls and runtime strategies', () => {
    const document = {
      ...valid(),
      controls: [{ provider: { type: 'python', module: 'x' } }, { name: 'c' }, { name: 's', provider: { type: 'python', module: 'x' }, scope: 'during' }],
      runtime: { rollbacks: { strategy: 'sometimes' }, hypothesis: { strategy: 'continously' } },
    };
    expect(messages(document)).toEqual([
      'controls[0].name: A control must have a `name` property',
      "controls[1].provider: Control 'c' must have a `provider` property",
      "controls[2].scope: Control 's' scope property must be 'before' or 'after' only",
      "runtime.rollbacks.strategy: unknown rollback strategy 'sometimes' (one of default, always, never, deviated)",
    ]);
  });
});

describe('what ChaosDuck refuses where Chaos Toolkit would run', () => {
  it('a python function it does not run natively, before anything runs, naming the activity, module and function', () => {
    const method = [{ type: 'probe', name: 'exists', provider: { type: 'python', module: 'os.path', func: 'exists', arguments: { path: '/' } } }];
    expect(messages({ ...valid(), method })).toEqual([expect.stringMatching(/^method\[0\]\.provider\.func: probe 'exists' calls the python function os\.path\.exists, which ChaosDuck does not run .*nothing was executed$/)]);
  });

  it("a native function's arguments, as chaoslib checks a signature", () => {
    const call = (func: string, args: Record<string, unknown>) => ({ type: 'action', name: func, provider: { type: 'python', module: 'chaosaws.rds.actions', func, arguments: args } });
    expect(messages({ ...valid(), method: [call('failover_db_cluster', {}), call('reboot_db_instance', { db_instance_identifier: 'db', force: true })] })).toEqual([
      "method[0].provider.arguments: required argument 'db_cluster_identifier' is missing from activity 'failover_db_cluster'",
      "method[1].provider.arguments.force: argument 'force' is not part of the function signature in activity 'reboot_db_instance'",
    ]);
  });

  it('a process provider outside the local runtime', () => {
    const refused = issues(valid(), { runtime: 'lambda' });
    expect(refused).toEqual([{ field: 'rollbacks[0].provider.type', message: expect.stringContaining("only the local runtime runs it (activity 'say-done')") }]);
  });

  it('throws one ValidationError naming them all', () => {
    const error = (() => {
      try {
        validateChaosToolkit({ method: [] }, context());
      } catch (caught) {
        return caught as ValidationError;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ValidationError);
    expect(error?.issues.map((i) => i.field)).toEqual(['title', 'description']);
  });
});

describe('YAML is read safely', () => {
  it('a tag that would construct an object is refused at load, naming the tag', () => {
    const error = (() => {
      try {
        parseDocumentText('title: t\ndescription: d\nmethod: !!python/object/apply:os.system ["touch /tmp/pwned"]\n');
      } catch (caught) {
        return caught as ValidationError;
      }
      return undefined;
    })();
    expect(error?.issues).toEqual([{ field: '', message: "Failed parsing YAML experiment: could not determine a constructor for the tag 'tag:yaml.org,2002:python/object/apply:os.system'" }]);
  });

  it('plain YAML reads as before', () => {
    expect(parseDocumentText('title: t\nmethod: []\n')).toEqual({ title: 't', method: [] });
  });
});
