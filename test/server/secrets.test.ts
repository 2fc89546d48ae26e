import assert from 'node:assert/strict';
import { test } from 'node:test';
import { maskSecrets, secretFieldsOf } from '../../src/server/secrets.js';

const schema = {
  properties: {
    token: { type: 'string', format: 'password', 'x-cog-secret': true },
    keys: { type: 'array', items: { type: 'string', format: 'password', 'x-cog-secret': true } },
    tags: { type: 'array', items: { type: 'string' } },
    text: { type: 'string' },
  },
};

test('Secret fields and lists of Secrets are found from the schema marks', () => {
  assert.deepEqual(
    [...secretFieldsOf(schema)],
    [
      ['token', 'value'],
      ['keys', 'list'],
    ],
  );
  assert.equal(secretFieldsOf({}).size, 0);
});

test('masking: each secret and each Secret of a list; nulls and other fields as given; the input untouched', () => {
  const input = { token: 'hunter2', keys: ['a', null, 'b'], tags: ['x'], text: 'hi' };
  const shown = maskSecrets(input, secretFieldsOf(schema));
  assert.deepEqual(shown, {
    token: '**********',
    keys: ['**********', null, '**********'],
    tags: ['x'],
    text: 'hi',
  });
  assert.equal(input.token, 'hunter2');
  assert.deepEqual(maskSecrets({ token: null }, secretFieldsOf(schema)), { token: null });
  const none = { text: 'hi' };
  assert.equal(maskSecrets(none, new Map()), none);
});
