/**
 * What the static reader refuses: each case must be an E_SCHEMA CogtsError whose message starts
 * with predict.py:LINE:COLUMN of the offending construct and names it. Where Cog itself cannot
 * serve the shape, the real runtime is checked to refuse it too (same rule, not a stricter one).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CogtsError } from '../../src/errors.js';
import { staticTargetSchema } from '../../src/schema/index.js';
import { runtimeTargets } from './runtime.js';

interface ErrorCase {
  name: string;
  source: string;
  /** The first occurrence of this text is where the error must point. */
  at: string;
  /** Words the message must contain (the construct named). */
  says: string[];
  ref?: string;
  /** The runtime (real Python) refuses it as well. */
  runtimeFails?: boolean;
}

const predictor = (sig: string, imports = '') =>
  `from typing import Iterator, Literal, Optional, Union\n${imports}\nfrom cog import BasePredictor, Input, Path\n\n\nclass Predictor(BasePredictor):\n    def predict(self, ${sig}:\n        pass\n`;

const cases: ErrorCase[] = [
  {
    name: 'default computed by a function call',
    source: predictor('seed: int = compute_seed()) -> int', 'def compute_seed():\n    return 4\n'),
    at: 'compute_seed())',
    says: ['function call', '`compute_seed()`', "parameter 'seed'"],
  },
  {
    name: 'Input(default=) naming a module constant',
    source: predictor('n: int = Input(default=DEFAULT_N)) -> int', 'DEFAULT_N = 3\n'),
    at: 'DEFAULT_N)',
    says: ['reference to', '`DEFAULT_N`'],
  },
  {
    name: 'type alias imported from another module',
    source: predictor('prompt: Prompt) -> str', 'from mytypes import Prompt\n'),
    at: 'Prompt)',
    says: ['mytypes.Prompt', 'another module'],
  },
  {
    name: 'type alias assigned in the file',
    source: predictor('prompt: Prompt) -> str', 'Prompt = str\n'),
    at: 'Prompt)',
    says: ['type alias', '`Prompt`'],
  },
  {
    name: 'a decorator cogts does not know',
    source:
      'import functools\nfrom cog import BasePredictor\n\n\nclass Predictor(BasePredictor):\n    @functools.lru_cache()\n    def predict(self) -> str:\n        pass\n',
    at: '@functools',
    says: ['decorator', '`@functools.lru_cache()`'],
  },
  {
    name: 'a union that is not Optional',
    source: predictor('x: Union[int, str]) -> str'),
    at: 'Union[int, str]',
    says: ['unions other than Optional', "parameter 'x'"],
    runtimeFails: true,
  },
  {
    name: 'an Optional output',
    source: predictor('x: int) -> Optional[str]'),
    at: 'Optional[str]:',
    says: ['return type', 'Optional'],
    runtimeFails: true,
  },
  {
    name: 'an iterator as an input',
    source: predictor('x: Iterator[int]) -> str'),
    at: 'Iterator[int])',
    says: ["parameter 'x'", 'iterator is only supported as an output'],
    runtimeFails: true,
  },
  {
    name: 'a None return annotation',
    source: predictor('x: int) -> None'),
    at: 'None:',
    says: ['return type', 'NoneType'],
    runtimeFails: true,
  },
  {
    name: 'a Python syntax error',
    source: predictor('x: int = ) -> str'),
    at: ') -> str',
    says: ['syntax error'],
  },
  {
    name: 'a parameter without a default after one with a default',
    source: predictor('x: int = 1, y: int) -> int'),
    at: 'y: int)',
    says: ['syntax error', "parameter 'y' without a default follows 'x'"],
  },
  {
    name: 'a keyword repeated in Input()',
    source: predictor('x: int = Input(ge=1, ge=2)) -> int'),
    at: 'ge=2',
    says: ['syntax error', "keyword argument 'ge' repeated"],
  },
  {
    name: 'an f-string default with a field',
    source: predictor('x: str = f"v{1}") -> str'),
    at: 'f"v{1}"',
    says: ['f-string', "parameter 'x'"],
  },
  {
    name: 'arithmetic in a default',
    source: predictor('x: int = 60 * 60) -> int'),
    at: '60 * 60',
    says: ['arithmetic', '`60 * 60`'],
  },
  {
    name: 'a bytes default',
    source: predictor('x: str = b"raw") -> str'),
    at: 'b"raw"',
    says: ['bytes literal'],
  },
  {
    name: 'a predictor class deriving from a class of another module',
    source: 'from mylib import Base\n\n\nclass Predictor(Base):\n    def setup(self):\n        pass\n',
    at: 'class Predictor',
    says: ['mylib.Base', 'another module'],
  },
  {
    name: 'an output class that is not a cog.BaseModel',
    source:
      'from pydantic import BaseModel\nfrom cog import BasePredictor\n\n\nclass Out(BaseModel):\n    x: int\n\n\nclass Predictor(BasePredictor):\n    def predict(self) -> Out:\n        pass\n',
    at: 'Out:',
    says: ['class Out is not a cog.BaseModel subclass', 'pydantic.BaseModel'],
  },
  {
    name: 'a Literal listing a value twice',
    source: predictor('x: Literal["a", "b", "a"]) -> str'),
    at: '"a"]',
    says: ['Literal', '`"a"` twice'],
  },
  {
    name: 'a name that may come from a star import',
    source:
      'from cog import *\n\n\nclass Predictor(BasePredictor):\n    def predict(self, x: int) -> str:\n        pass\n',
    at: 'BasePredictor)',
    says: ['import *', '`BasePredictor`'],
  },
  {
    name: 'a name bound twice',
    source: predictor('x: Path) -> str', 'Path = str\n').replace(
      'from cog import BasePredictor, Input, Path',
      'from cog import BasePredictor, Input, Path\nimport os',
    ),
    at: 'Path)',
    says: ['`Path` is bound more than once'],
  },
  {
    name: 'the ref names nothing in the file',
    source: predictor('x: int) -> int'),
    ref: 'predict.py:Missing',
    at: 'from typing',
    says: ['predict.py:Missing', 'defines no `Missing`'],
  },
  {
    name: 'a class with neither run() nor predict()',
    source:
      'from cog import BasePredictor\n\n\nclass Predictor(BasePredictor):\n    def setup(self):\n        pass\n',
    at: 'class Predictor',
    says: ['class Predictor defines none of run()/predict()'],
  },
];

function position(source: string, at: string): string {
  const offset = source.indexOf(at);
  assert.ok(offset >= 0, `marker ${JSON.stringify(at)} not in the source`);
  const before = source.slice(0, offset).split('\n');
  return `predict.py:${before.length}:${before[before.length - 1]!.length + 1}`;
}

describe('static schema: constructs that need Python are E_SCHEMA errors at file:line:column', () => {
  const dirs: string[] = [];
  let runtime: Map<string, string | undefined>;
  before(() => {
    runtime = new Map();
    for (const c of cases.filter((x) => x.runtimeFails)) {
      const d = mkdtempSync(join(tmpdir(), 'cogts-schema-err-'));
      dirs.push(d);
      writeFileSync(join(d, 'predict.py'), c.source);
      const [r] = runtimeTargets(d, [{ ref: 'predict.py:Predictor' }]);
      runtime.set(c.name, r && 'error' in r ? r.error : undefined);
    }
  });
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  test('there are at least 8 distinct error cases', () => {
    assert.ok(cases.length >= 8);
  });

  for (const c of cases) {
    test(c.name, () => {
      const d = mkdtempSync(join(tmpdir(), 'cogts-schema-err-'));
      try {
        writeFileSync(join(d, 'predict.py'), c.source);
        let caught: unknown;
        try {
          staticTargetSchema(d, c.ref ?? 'predict.py:Predictor', { kind: 'predict' });
        } catch (err) {
          caught = err;
        }
        assert.ok(caught instanceof CogtsError, `expected a CogtsError, got ${String(caught)}`);
        assert.equal(caught.code, 'E_SCHEMA');
        const where = c.ref ? 'predict.py:1:1' : position(c.source, c.at);
        assert.ok(caught.message.startsWith(`${where}: `), `${caught.message}\n  should start with ${where}`);
        for (const word of c.says)
          assert.ok(caught.message.includes(word), `${caught.message}\n  should mention ${word}`);
        assert.ok(caught.hint, 'a hint is given');
      } finally {
        rmSync(d, { recursive: true, force: true });
      }
      if (c.runtimeFails)
        assert.match(runtime.get(c.name) ?? '', /SchemaError/, 'the runtime refuses it too');
    });
  }

  test("a recursive output model and annotations the model's Python cannot evaluate", () => {
    const d = mkdtempSync(join(tmpdir(), 'cogts-schema-err-'));
    try {
      const source =
        'from typing import List\nfrom cog import BaseModel, BasePredictor\n\n\nclass Node(BaseModel):\n    kids: List["Node"]\n\n\nclass Predictor(BasePredictor):\n    def predict(self, x: list[int], y: int | None) -> Node:\n        pass\n';
      writeFileSync(join(d, 'predict.py'), source);
      const failsWith = (pythonVersion: string | undefined, at: string, words: string[]) =>
        assert.throws(
          () => staticTargetSchema(d, 'predict.py:Predictor', { kind: 'predict', pythonVersion }),
          (e: unknown) =>
            e instanceof CogtsError &&
            e.code === 'E_SCHEMA' &&
            e.message.startsWith(`${position(source, at)}: `) &&
            words.every((w) => e.message.includes(w)),
        );
      failsWith(undefined, 'class Node', ['class Node contains itself']);
      failsWith('3.8', 'list[int]', ["parameter 'x'", 'list[...] needs Python 3.9']);
      failsWith('3.9.18', 'int | None', ["parameter 'y'", '`X | Y` annotations need Python 3.10']);
      failsWith('3.12', 'class Node', ['class Node contains itself']);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  test('a missing file and a malformed ref name the ref', () => {
    const d = mkdtempSync(join(tmpdir(), 'cogts-schema-err-'));
    try {
      assert.throws(
        () => staticTargetSchema(d, 'nope.py:Predictor', { kind: 'predict' }),
        (e: unknown) =>
          e instanceof CogtsError && e.code === 'E_SCHEMA' && e.message.startsWith('nope.py: cannot read'),
      );
      assert.throws(
        () => staticTargetSchema(d, 'predict.py', { kind: 'predict' }),
        (e: unknown) =>
          e instanceof CogtsError &&
          e.code === 'E_SCHEMA' &&
          /must look like predict\.py:Predictor/.test(e.message),
      );
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});
