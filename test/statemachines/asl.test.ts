/**
 * The state machines' ASL files are valid Amazon States Language, checked by aws-local-stepfunctions' own validator
 * with every check on (JSONPath expressions, ARNs): the embedded runtime loads them without validating, to start fast.
 */
import { StateMachine } from 'aws-local-stepfunctions';
import { describe, expect, it } from 'vitest';
import { FUNCTION_NAMES } from '../../functions/registry.js';
import { localDefinitions } from '../../local/step-functions.js';
import { MACHINE_NAMES } from '../../statemachines/definitions.js';

describe('the ASL files', () => {
  const definitions = localDefinitions(FUNCTION_NAMES);

  it.each(MACHINE_NAMES)('%s is valid ASL', (name) => {
    expect(() => new StateMachine(definitions.get(name) as never, { validationOptions: { checkPaths: true, checkArn: true } })).not.toThrow();
  });

  it('the validator does refuse a broken definition', () => {
    const broken = { ...definitions.get('experiment'), StartAt: 'NoSuchState' };

    expect(() => new StateMachine(broken as never)).toThrow();
  });
});
