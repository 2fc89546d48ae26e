/**
 * Each annotation/default/return shape the static reader supports, checked two ways: against the
 * real runtime (src/python/cog, one Python process for the whole table) and against the expected
 * JSON fragment written here, so a shared mistake in both cannot pass.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { staticTargetSchema } from '../../src/schema/index.js';
import { type RuntimeTarget, runtimeTargets } from './runtime.js';

interface Case {
  name: string;
  /** Parameters after self, e.g. `x: int = 3`. */
  params?: string;
  /** Return annotation (omit the arrow with ret: null). */
  ret?: string | null;
  /** A whole target instead of the generated class (it must define `Case_<name>`). */
  source?: string;
  /** Expected `properties.x` of Input (x-order and title included). */
  x?: Record<string, unknown>;
  required?: string[];
  output?: Record<string, unknown>;
  streaming?: boolean;
  async?: boolean;
  concurrency?: number;
}

const HEADER = `import collections.abc
import pathlib
import typing
import typing as t

import cog
from cog import (AsyncConcatenateIterator, BaseModel, BasePredictor, BaseRunner, ConcatenateIterator,
                 File, Input, Path, Secret, concurrent, streaming)
from cog import Input as In
from typing import Any, AsyncIterator, Dict, Generator, Iterator, List, Literal, Optional, Union


class Pair(BaseModel):
    left: int
    right: Optional[str]


class Out(BaseModel):
    text: str
    score: float = 0.5
    tags: List[str]
    pair: Pair
    maybe: Optional[int] = None
    _private: int = 1


class MoreOut(Out):
    extra: "bool"
    text: int
`;

const X = (schema: Record<string, unknown>) => ({ title: 'X', ...schema, 'x-order': 0 });

const cases: Case[] = [
  // --- input types
  { name: 'str', params: 'x: str', x: X({ type: 'string' }), required: ['x'] },
  { name: 'int', params: 'x: int', x: X({ type: 'integer' }) },
  { name: 'float', params: 'x: float', x: X({ type: 'number' }) },
  { name: 'bool', params: 'x: bool', x: X({ type: 'boolean' }) },
  { name: 'dict', params: 'x: dict', x: X({ type: 'object' }) },
  { name: 'typing_dict', params: 'x: Dict[str, int]', x: X({ type: 'object' }) },
  { name: 'builtin_dict_generic', params: 'x: dict[str, list[int]]', x: X({ type: 'object' }) },
  { name: 'bare_list', params: 'x: list', x: X({ type: 'array', items: {} }) },
  { name: 'bare_List', params: 'x: List', x: X({ type: 'array', items: {} }) },
  { name: 'list_str', params: 'x: list[str]', x: X({ type: 'array', items: { type: 'string' } }) },
  { name: 'List_int', params: 'x: List[int]', x: X({ type: 'array', items: { type: 'integer' } }) },
  {
    name: 'list_path',
    params: 'x: list[Path]',
    x: X({ type: 'array', items: { type: 'string', format: 'uri' } }),
  },
  {
    name: 'nested_list',
    params: 'x: List[list[float]]',
    x: X({ type: 'array', items: { type: 'array', items: { type: 'number' } } }),
  },
  { name: 'path', params: 'x: Path', x: X({ type: 'string', format: 'uri' }) },
  { name: 'pathlib_path', params: 'x: pathlib.Path', x: X({ type: 'string', format: 'uri' }) },
  { name: 'cog_dot_path', params: 'x: cog.Path', x: X({ type: 'string', format: 'uri' }) },
  { name: 'file', params: 'x: File', x: X({ type: 'string', format: 'uri' }) },
  {
    name: 'secret',
    params: 'x: Secret',
    x: X({ type: 'string', format: 'password', writeOnly: true, 'x-cog-secret': true }),
  },
  { name: 'any', params: 'x: Any', x: X({}) },
  { name: 'unannotated', params: 'x', x: X({}), required: ['x'] },
  { name: 'optional', params: 'x: Optional[int]', x: X({ type: 'integer', nullable: true }), required: [] },
  { name: 'pipe_none', params: 'x: int | None', x: X({ type: 'integer', nullable: true }) },
  {
    name: 'none_pipe',
    params: 'x: None | str = "a"',
    x: X({ type: 'string', default: 'a', nullable: true }),
  },
  { name: 'union_none', params: 'x: Union[float, None]', x: X({ type: 'number', nullable: true }) },
  { name: 'union_single', params: 'x: Union[int]', x: X({ type: 'integer' }) },
  {
    name: 'typing_prefix',
    params: 'x: typing.Optional[typing.List[str]]',
    x: X({ type: 'array', items: { type: 'string' }, nullable: true }),
  },
  { name: 'alias_module', params: 'x: t.List[t.Any]', x: X({ type: 'array', items: {} }) },
  {
    name: 'literal_str',
    params: 'x: Literal["a", "b"] = "b"',
    x: X({ type: 'string', enum: ['a', 'b'], default: 'b' }),
  },
  { name: 'literal_int', params: 'x: Literal[1, -2, 3]', x: X({ type: 'integer', enum: [1, -2, 3] }) },
  {
    name: 'literal_bool',
    params: 'x: typing.Literal[True, False]',
    x: X({ type: 'boolean', enum: [true, false] }),
  },
  {
    name: 'literal_nested',
    params: 'x: Literal[Literal["a"], "b"]',
    x: X({ type: 'string', enum: ['a', 'b'] }),
  },
  {
    name: 'string_annotation',
    params: 'x: "List[int]" = [1]',
    x: X({ type: 'array', items: { type: 'integer' }, default: [1] }),
  },
  // --- Input() keywords and plain defaults
  {
    name: 'input_all',
    params:
      'x: str = Input(default="ab", description="Some text", min_length=1, max_length=5, regex="^[a-z]+$", deprecated=True)',
    x: X({
      type: 'string',
      default: 'ab',
      description: 'Some text',
      minLength: 1,
      maxLength: 5,
      pattern: '^[a-z]+$',
      deprecated: true,
    }),
  },
  {
    name: 'input_ge_le',
    params: 'x: float = Input(ge=-1, le=2.5)',
    x: X({ type: 'number', minimum: -1, maximum: 2.5 }),
    required: ['x'],
  },
  {
    name: 'input_list_len',
    params: 'x: List[str] = Input(default=[], min_length=0, max_length=3)',
    x: X({ type: 'array', items: { type: 'string' }, default: [], minItems: 0, maxItems: 3 }),
  },
  {
    name: 'input_choices',
    params: 'x: str = Input(choices=("a", "b"), default="a")',
    x: X({ type: 'string', enum: ['a', 'b'], default: 'a' }),
  },
  {
    name: 'input_choices_int',
    params: 'x: int = In(choices=[1, 2])',
    x: X({ type: 'integer', enum: [1, 2] }),
    required: ['x'],
  },
  {
    name: 'input_positional',
    params: 'x: int = Input(3, "Three")',
    x: X({ type: 'integer', default: 3, description: 'Three' }),
  },
  {
    name: 'input_ellipsis',
    params: 'x: int = Input(default=..., description="req")',
    x: X({ type: 'integer', description: 'req' }),
    required: ['x'],
  },
  {
    name: 'input_default_none',
    params: 'x: str = Input(default=None)',
    x: X({ type: 'string' }),
    required: [],
  },
  {
    name: 'input_deprecated_false',
    params: 'x: int = Input(default=1, deprecated=False)',
    x: X({ type: 'integer', default: 1 }),
  },
  {
    name: 'input_ignored_keyword',
    params: 'x: Path = Input(description="img", accept="image/*")',
    x: X({ type: 'string', format: 'uri', description: 'img' }),
  },
  {
    name: 'input_via_cog_module',
    params: 'x: int = cog.Input(default=2, ge=0)',
    x: X({ type: 'integer', default: 2, minimum: 0 }),
  },
  {
    name: 'secret_default',
    params: 'x: Secret = Input(default=Secret("k"))',
    x: X({
      type: 'string',
      format: 'password',
      default: '**********',
      writeOnly: true,
      'x-cog-secret': true,
    }),
  },
  {
    name: 'list_of_secrets',
    params: 'x: List[Secret] = Input(description="keys")',
    x: X({
      type: 'array',
      items: { type: 'string', format: 'password', writeOnly: true, 'x-cog-secret': true },
      description: 'keys',
    }),
    required: ['x'],
  },
  {
    name: 'path_default',
    params: 'x: Path = Path("./a//b/")',
    x: X({ type: 'string', format: 'uri', default: 'a/b' }),
  },
  {
    name: 'default_none',
    params: 'x: Optional[str] = None',
    x: X({ type: 'string', nullable: true }),
    required: [],
  },
  { name: 'default_negative', params: 'x: int = -3', x: X({ type: 'integer', default: -3 }) },
  {
    name: 'default_number_forms',
    params: 'x: list = [1_000, 0x1F, 0o17, 0b101, 1e3, .5, -0.25, +2]',
    x: X({ type: 'array', items: {}, default: [1000, 31, 15, 5, 1000, 0.5, -0.25, 2] }),
  },
  {
    name: 'default_escapes',
    params: "x: str = 'a\\n\\t\\x41\\u00e9\\101\\q'",
    x: X({ type: 'string', default: 'a\n\tAéA\\q' }),
  },
  {
    name: 'default_raw_concat',
    params: 'x: str = r"\\d+" "-" f"plain"',
    x: X({ type: 'string', default: '\\d+-plain' }),
  },
  {
    name: 'default_triple',
    params: 'x: str = """two\nlines"""',
    x: X({ type: 'string', default: 'two\nlines' }),
  },
  {
    name: 'default_tuple_dict',
    params: 'x: Any = ({"k": [1, None, True]}, (2,))',
    x: X({ default: [{ k: [1, null, true] }, [2]] }),
  },
  { name: 'default_false', params: 'x: bool = False', x: X({ type: 'boolean', default: false }) },
  // --- outputs
  { name: 'out_str', ret: 'str', output: { title: 'Output', type: 'string' } },
  { name: 'out_missing', ret: null, output: { title: 'Output' } },
  { name: 'out_path', ret: 'Path', output: { title: 'Output', type: 'string', format: 'uri' } },
  {
    name: 'out_list_path',
    ret: 'List[Path]',
    output: { title: 'Output', type: 'array', items: { type: 'string', format: 'uri' } },
  },
  {
    name: 'out_secret',
    ret: 'Secret',
    output: { title: 'Output', type: 'string', format: 'password', 'x-cog-secret': true },
  },
  {
    name: 'out_literal',
    ret: 'Literal["x", "y"]',
    output: { title: 'Output', type: 'string', enum: ['x', 'y'] },
  },
  {
    name: 'out_iterator',
    ret: 'Iterator[int]',
    output: { title: 'Output', type: 'array', items: { type: 'integer' }, 'x-cog-array-type': 'iterator' },
    streaming: true,
  },
  {
    name: 'out_bare_iterator',
    ret: 'typing.Iterator',
    output: { title: 'Output', type: 'array', items: {}, 'x-cog-array-type': 'iterator' },
  },
  {
    name: 'out_generator',
    ret: 'Generator[str, None, None]',
    output: { title: 'Output', type: 'array', items: { type: 'string' }, 'x-cog-array-type': 'iterator' },
  },
  {
    name: 'out_abc_iterator',
    ret: 'collections.abc.Iterator[Path]',
    output: {
      title: 'Output',
      type: 'array',
      items: { type: 'string', format: 'uri' },
      'x-cog-array-type': 'iterator',
    },
  },
  {
    name: 'out_concatenate',
    ret: 'ConcatenateIterator[str]',
    output: {
      title: 'Output',
      type: 'array',
      items: { type: 'string' },
      'x-cog-array-type': 'iterator',
      'x-cog-array-display': 'concatenate',
    },
    streaming: true,
  },
  {
    name: 'out_bare_concatenate',
    ret: 'ConcatenateIterator',
    output: {
      title: 'Output',
      type: 'array',
      items: { type: 'string' },
      'x-cog-array-type': 'iterator',
      'x-cog-array-display': 'concatenate',
    },
  },
  {
    name: 'out_model',
    ret: 'Out',
    output: {
      title: 'Output',
      type: 'object',
      properties: {
        text: { title: 'Text', type: 'string', 'x-order': 0 },
        score: { title: 'Score', type: 'number', 'x-order': 1 },
        tags: { title: 'Tags', type: 'array', items: { type: 'string' }, 'x-order': 2 },
        pair: {
          title: 'Pair',
          type: 'object',
          properties: {
            left: { title: 'Left', type: 'integer', 'x-order': 0 },
            right: { title: 'Right', type: 'string', nullable: true, 'x-order': 1 },
          },
          required: ['left'],
          'x-order': 3,
        },
        maybe: { title: 'Maybe', type: 'integer', nullable: true, 'x-order': 4 },
      },
      required: ['text', 'tags', 'pair'],
    },
  },
  { name: 'out_model_inherited', ret: '"MoreOut"' },
  { name: 'out_list_model', ret: 'list[Pair]' },
  { name: 'out_dict', ret: 'dict', output: { title: 'Output', type: 'object' } },
  // --- targets, decorators, async
  {
    name: 'streaming_decorator',
    source:
      'class Case_streaming_decorator(BasePredictor):\n    @streaming\n    def predict(self) -> str:\n        pass\n',
    streaming: true,
  },
  {
    name: 'async_concurrent',
    source:
      'class Case_async_concurrent(BasePredictor):\n    @cog.concurrent(max=4)\n    async def predict(self, x: int) -> AsyncIterator[str]:\n        yield ""\n',
    async: true,
    streaming: true,
    concurrency: 4,
    output: { title: 'Output', type: 'array', items: { type: 'string' }, 'x-cog-array-type': 'iterator' },
  },
  {
    name: 'async_concatenate',
    source:
      'class Case_async_concatenate(BasePredictor):\n    async def predict(self) -> AsyncConcatenateIterator[str]:\n        yield ""\n',
    async: true,
  },
  {
    name: 'runner_run_over_predict',
    source:
      'class Case_runner_run_over_predict(BaseRunner):\n    def predict(self, a: int) -> int:\n        pass\n    def run(self, x: str) -> str:\n        pass\n',
    x: X({ type: 'string' }),
  },
  {
    name: 'runner_only_predict',
    source:
      'class Case_runner_only_predict(BaseRunner):\n    def predict(self, x: bool) -> str:\n        pass\n',
    x: X({ type: 'boolean' }),
  },
  {
    name: 'inherited_predict',
    source:
      'class _Base(BasePredictor):\n    def predict(self, x: float = 1.5) -> float:\n        pass\n\n\nclass Case_inherited_predict(_Base):\n    def setup(self):\n        pass\n',
    x: X({ type: 'number', default: 1.5 }),
  },
  {
    name: 'other_self_name',
    source:
      'class Case_other_self_name(BasePredictor):\n    def predict(this, x: int, self=None) -> int:\n        pass\n',
    x: X({ type: 'integer' }),
  },
  {
    name: 'staticmethod',
    source:
      'class Case_staticmethod(BasePredictor):\n    @staticmethod\n    def predict(x: int) -> int:\n        pass\n',
    x: X({ type: 'integer' }),
  },
  {
    name: 'function',
    source: 'def Case_function(x: str = "f", *, y: int = 2) -> str:\n    pass\n',
    x: X({ type: 'string', default: 'f' }),
  },
  {
    name: 'variadic_skipped',
    source:
      'class Case_variadic_skipped(BasePredictor):\n    def predict(self, x: str, *images: Path, seed: int = 1, **kwargs: Any) -> str:\n        pass\n',
    x: X({ type: 'string' }),
    required: ['x'],
  },
  {
    name: 'private_name_mangled',
    source:
      'class Case_private_name_mangled(BasePredictor):\n    def predict(self, __x: int = 1, x: int = 2) -> int:\n        pass\n',
    x: { title: 'X', type: 'integer', default: 2, 'x-order': 1 },
  },
  {
    name: 'no_base_class',
    source: 'class Case_no_base_class:\n    def predict(self, x: int) -> int:\n        pass\n',
    x: X({ type: 'integer' }),
  },
  {
    name: 'run_on_base_predictor',
    source:
      'class Case_run_on_base_predictor(BasePredictor):\n    def predict(self, a: int) -> int:\n        pass\n    def run(self, x: str) -> str:\n        pass\n',
    x: X({ type: 'string' }),
  },
  {
    name: 'keyword_only',
    source:
      'class Case_keyword_only(BasePredictor):\n    def predict(self, *, x: int = 1) -> int:\n        pass\n',
    x: X({ type: 'integer', default: 1 }),
  },
];

function caseSource(c: Case): string {
  if (c.source) return c.source;
  const ret = c.ret === null ? '' : ` -> ${c.ret ?? 'str'}`;
  const params = c.params ? `self, ${c.params}` : 'self';
  return `class Case_${c.name}(BasePredictor):\n    def predict(${params})${ret}:\n        pass\n`;
}

describe('static schema: each type mapping equals the runtime and the expected JSON', () => {
  let dir: string;
  let runtime: RuntimeTarget[];
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'cogts-schema-types-'));
    writeFileSync(join(dir, 'cases.py'), HEADER + '\n\n' + cases.map(caseSource).join('\n\n'));
    // Same file with postponed evaluation: every annotation becomes a string to resolve.
    writeFileSync(
      join(dir, 'future.py'),
      'from __future__ import annotations\n' + HEADER + '\n\n' + cases.map(caseSource).join('\n\n'),
    );
    runtime = runtimeTargets(dir, [
      ...cases.map((c) => ({ ref: `cases.py:Case_${c.name}` })),
      ...cases.map((c) => ({ ref: `future.py:Case_${c.name}` })),
    ]);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  cases.forEach((c, i) => {
    test(c.name, () => {
      for (const [file, rt] of [
        ['cases.py', runtime[i]!],
        ['future.py', runtime[cases.length + i]!],
      ] as const) {
        assert.ok(!('error' in rt), `runtime (${file}) failed: ${'error' in rt ? rt.error : ''}`);
        const st = staticTargetSchema(dir, `${file}:Case_${c.name}`, { kind: 'predict' });
        assert.equal(JSON.stringify(st.input), JSON.stringify(rt.input), `${file}: Input`);
        assert.equal(JSON.stringify(st.output), JSON.stringify(rt.output), `${file}: Output`);
        assert.equal(st.streaming, rt.streaming, `${file}: streaming`);
        assert.equal(st.async, rt.async, `${file}: async`);
        assert.equal(st.concurrency ?? null, rt.concurrency, `${file}: concurrency`);
        const props = st.input.properties as Record<string, unknown>;
        if (c.x) assert.equal(JSON.stringify(props.x), JSON.stringify(c.x), `${file}: expected properties.x`);
        if (c.required) assert.deepEqual(st.input.required ?? [], c.required);
        if (c.output)
          assert.equal(JSON.stringify(st.output), JSON.stringify(c.output), `${file}: expected Output`);
        if (c.streaming !== undefined) assert.equal(st.streaming, c.streaming);
        if (c.async !== undefined) assert.equal(st.async, c.async);
        if (c.concurrency !== undefined) assert.equal(st.concurrency, c.concurrency);
      }
    });
  });

  test('a UTF-8 BOM and CRLF line endings read like plain LF source (Python reads both)', () => {
    const d = mkdtempSync(join(tmpdir(), 'cogts-schema-crlf-'));
    try {
      const lf = [
        'from cog import BasePredictor, Input',
        '',
        'class P(BasePredictor):',
        '    def predict(self, s: str = """a',
        'b""", n: int = Input(description="x")) -> str:',
        '        pass',
        '',
      ].join('\n');
      writeFileSync(join(d, 'lf.py'), lf);
      writeFileSync(join(d, 'crlf.py'), '\uFEFF' + lf.replace(/\n/g, '\r\n'));
      const [rt] = runtimeTargets(d, [{ ref: 'crlf.py:P' }]);
      const crlf = staticTargetSchema(d, 'crlf.py:P', { kind: 'predict' });
      assert.deepStrictEqual(crlf, staticTargetSchema(d, 'lf.py:P', { kind: 'predict' }));
      assert.ok(rt && !('error' in rt), JSON.stringify(rt));
      assert.equal(JSON.stringify(crlf.input), JSON.stringify(rt.input));
      assert.equal((crlf.input.properties as Record<string, { default: string }>).s!.default, 'a\nb');
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  test('train targets use the TrainingInput/TrainingOutput titles and the train() method', () => {
    const d = mkdtempSync(join(tmpdir(), 'cogts-schema-train-'));
    try {
      writeFileSync(
        join(d, 'train.py'),
        'from cog import BasePredictor, Input\n\nclass T(BasePredictor):\n    def train(self, steps: int = Input(default=1, ge=1)) -> str:\n        pass\n',
      );
      const [rt] = runtimeTargets(d, [{ ref: 'train.py:T', train: true }]);
      const st = staticTargetSchema(d, 'train.py:T', { kind: 'train' });
      assert.ok(rt && !('error' in rt));
      assert.equal(st.input.title, 'TrainingInput');
      assert.equal(st.output.title, 'TrainingOutput');
      assert.equal(JSON.stringify(st.input), JSON.stringify(rt.input));
      assert.equal(JSON.stringify(st.output), JSON.stringify(rt.output));
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});
