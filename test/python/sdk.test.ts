import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fixturesDir, repoRoot } from '../helpers/paths.js';

const python = process.env.COGTS_PYTHON ?? 'python3';
const env = { ...process.env, PYTHONPATH: join(repoRoot, 'src', 'python') };

function py(code: string, cwd = repoRoot): string {
  const r = spawnSync(python, ['-c', code], { cwd, env, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

// biome-ignore lint/suspicious/noExplicitAny: schema JSON, asserted field by field
type Json = any;

function schemaOf(model: string, ref: string, extra: string[] = []): Record<string, Json> {
  const r = spawnSync(python, ['-m', 'cog.runner', '--schema-only', '--predict', ref, ...extra], {
    cwd: join(fixturesDir, 'models', model),
    env,
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test('the cog package imports with the standard library only', () => {
  const out = py(
    'import sys; before = set(sys.modules)\nimport cog, cog.runner\nnew = set(sys.modules) - before\nprint(sorted(m for m in new if m.split(".")[0] not in sys.stdlib_module_names and m.split(".")[0] != "cog"))',
  );
  assert.equal(out.trim(), '[]');
  for (const f of ['runner.py', 'schema.py', 'types.py']) {
    assert.doesNotMatch(
      readFileSync(join(repoRoot, 'src', 'python', 'cog', f), 'utf8'),
      /^\s*(import|from) (pydantic|fastapi)/m,
    );
  }
});

test('Secret masks itself; record_metric modes accumulate; BaseModel checks fields', () => {
  const out = py(`
from cog import Secret, BaseModel
from cog.predictor import Scope
s = Secret("pw"); print(repr(s), str(s), s.get_secret_value())
sent = []
sc = Scope("p", sent.append)
sc.record_metric("n", 2, mode="incr"); sc.record_metric("n", 3, mode="incr")
sc.record_metric("l", "a", mode="append"); sc.record_metric("l", "b", mode="append")
sc.record_metric("r", 1); sc.record_metric("r", 5)
print(sc.metrics, sent[-1])
class O(BaseModel):
    a: int
    b: str = "x"
print(O(a=1).dict())
try:
    O()
except TypeError as e:
    print("error", e)
`);
  assert.equal(
    out,
    "Secret(**********) ********** pw\n{'n': 5, 'l': ['a', 'b'], 'r': 5} {'type': 'metric', 'id': 'p', 'name': 'r', 'value': 5}\n{'a': 1, 'b': 'x'}\nerror O() missing field 'a'\n",
  );
});

test('captured stdout is line-buffered per prediction and accepts bytes through .buffer', () => {
  const out = py(`
import sys
from cog.logcapture import LogStream
from cog.predictor import Scope, _scope
class R:
    sent = []
    def send_log(self, owner, source, data): self.sent.append((owner, source, data))
    def sole_active_id(self): return None
r = R()
s = LogStream("stdout", r, sys.__stdout__)
s.write("setup ")
s.write("line\\n")
_scope.set(Scope("p1", lambda f: None))
s.write("a")
s.buffer.write(b"b\\nc")
s.flush_owner("p1")
print(r.sent)
`);
  assert.equal(
    out.trim(),
    "[(None, 'stdout', 'setup line\\n'), ('p1', 'stdout', 'ab\\n'), ('p1', 'stdout', 'c')]",
  );
});

test('schema: Input key order, required, and Output shapes follow SCHEMA.md', () => {
  const typed = schemaOf('typed-inputs', 'predict.py:Predictor');
  assert.equal(
    JSON.stringify(typed.input.properties.text),
    '{"title":"Text","type":"string","description":"Text to echo","minLength":1,"maxLength":20,"x-order":0}',
  );
  assert.equal(
    JSON.stringify(typed.input.properties.numbers),
    '{"title":"Numbers","type":"array","items":{"type":"integer"},"default":[1,2],"x-order":7}',
  );
  assert.deepEqual(Object.keys(typed.input), ['title', 'type', 'properties', 'required']);
  const files = schemaOf('files', 'predict.py:Predictor');
  assert.deepEqual(files.output, {
    title: 'Output',
    type: 'array',
    items: { type: 'string', format: 'uri' },
  });
  assert.deepEqual(files.input.properties.legacy, {
    title: 'Legacy',
    type: 'string',
    format: 'uri',
    nullable: true,
    'x-order': 2,
  });
  const streaming = schemaOf('streaming', 'predict.py:Predictor');
  assert.deepEqual(streaming.output, {
    title: 'Output',
    type: 'array',
    items: { type: 'string' },
    'x-cog-array-type': 'iterator',
    'x-cog-array-display': 'concatenate',
  });
  assert.equal(streaming.streaming, true);
  const runner = schemaOf('runner', 'run.py:Runner', ['--train', 'train.py:train']);
  assert.equal(runner.trainingInput.title, 'TrainingInput');
  assert.equal(runner.healthcheck, true);
  assert.equal(schemaOf('async-concurrency', 'predict.py:Predictor').async, true);
});

test('unsupported signatures are reported naming the parameter', () => {
  const r = spawnSync(
    python,
    [
      '-c',
      'from typing import Union\nfrom cog.schema import input_params\ndef predict(x: Union[int, str]) -> str: ...\ninput_params(predict)',
    ],
    { env, encoding: 'utf8' },
  );
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /parameter 'x': unions other than Optional\[T\] are not supported/);
});
