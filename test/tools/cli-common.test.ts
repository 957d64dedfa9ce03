import assert from 'node:assert/strict';
import { test } from 'node:test';
import { intFlag, parseCliArgs, UserError } from '../../tools/common/cli.ts';

const options = { fault: { type: 'string' }, port: { type: 'string' }, quiet: { type: 'boolean' } } as const;

function userErrorOf(fn: () => unknown): UserError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof UserError, `expected a UserError, got ${String(err)}`);
    return err;
  }
  assert.fail('no error thrown');
}

test('a flag whose value looks like another flag is a one-line error naming it (regression: Node prints three lines)', () => {
  const err = userErrorOf(() => parseCliArgs(['--fault', '--port', '1'], options));
  assert.doesNotMatch(err.message, /\n/);
  assert.match(err.message, /--fault/);
  assert.match(err.message, /; see --help$/);
});

test('unknown flags, missing values and stray positionals are one-line user errors', () => {
  for (const argv of [['--nope'], ['--port'], ['stray']]) {
    const err = userErrorOf(() => parseCliArgs(argv, options));
    assert.doesNotMatch(err.message, /\n/);
    assert.match(err.message, /--nope|--port|stray/);
  }
  assert.deepEqual({ ...parseCliArgs(['--port', '8080', '--quiet'], options).values }, { port: '8080', quiet: true });
});

test('intFlag takes whole numbers within bounds and names the flag otherwise', () => {
  assert.equal(intFlag('users', undefined, 7), 7);
  assert.equal(intFlag('users', '12', 7), 12);
  assert.match(userErrorOf(() => intFlag('users', '0', 7)).message, /--users must be between 1 and/);
  assert.match(userErrorOf(() => intFlag('users', '1.5', 7)).message, /--users must be a whole number, got "1.5"/);
});
