/**
 * One parsed Python source file and the one way this module reports a problem in it: a CogtsError
 * E_SCHEMA whose message starts with `file:line:column` so an editor can jump to it.
 */
import { readFileSync } from 'node:fs';
import type { SyntaxNode, Tree } from '@lezer/common';
import { parser } from '@lezer/python';
import { CogtsError } from '../errors.js';

export interface PySource {
  /** As the user wrote it in cog.yaml (relative to the project), used in messages. */
  readonly displayPath: string;
  readonly text: string;
  readonly tree: Tree;
  /** Offsets where each line starts (line 1 at index 0). */
  readonly lineStarts: readonly number[];
}

const HINT =
  'cogts reads predict.py without running it: use literal defaults and annotations built from ' +
  'cog/typing names (see src/python/cog/SCHEMA.md), or build on a machine that can run the model.';

export function parseSource(displayPath: string, text: string): PySource {
  // Python reads source with universal newlines; string literals must see "\n" only.
  const normalized = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  const tree = parser.parse(normalized);
  const lineStarts = [0];
  for (let i = 0; i < normalized.length; i++) if (normalized[i] === '\n') lineStarts.push(i + 1);
  const src: PySource = { displayPath, text: normalized, tree, lineStarts };
  const bad = firstError(tree.topNode);
  if (bad) {
    schemaError(
      src,
      bad,
      'Python syntax error' + (bad.to > bad.from ? ` near ${quote(textOf(src, bad))}` : ''),
    );
  }
  return src;
}

export function readSource(file: string, displayPath: string): PySource {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CogtsError('E_SCHEMA', `${displayPath}: cannot read the file (${(err as Error).message})`, {
      hint: 'cog.yaml predict/run/train must name a .py file in the project, e.g. "predict.py:Predictor"',
      cause: err,
    });
  }
  return parseSource(displayPath, text);
}

function firstError(node: SyntaxNode): SyntaxNode | undefined {
  const cursor = node.cursor();
  do {
    if (cursor.type.isError) return cursor.node;
  } while (cursor.next());
  return undefined;
}

export function textOf(src: PySource, node: SyntaxNode): string {
  return src.text.slice(node.from, node.to);
}

/** 1-based line and column of an offset (columns count UTF-16 units, as editors mostly do). */
export function positionOf(src: PySource, offset: number): { line: number; column: number } {
  let lo = 0;
  let hi = src.lineStarts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (src.lineStarts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: offset - src.lineStarts[lo]! + 1 };
}

export function locationOf(src: PySource, node: SyntaxNode | number): string {
  const { line, column } = positionOf(src, typeof node === 'number' ? node : node.from);
  return `${src.displayPath}:${line}:${column}`;
}

/** Short, single-line rendering of source text for messages. */
export function quote(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return '`' + (oneLine.length > 60 ? oneLine.slice(0, 57) + '...' : oneLine) + '`';
}

export function schemaError(src: PySource, at: SyntaxNode | number, message: string, hint = HINT): never {
  throw new CogtsError('E_SCHEMA', `${locationOf(src, at)}: ${message}`, { hint });
}

/** Children of a node, in order (lezer keeps punctuation as children too). */
export function childrenOf(node: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (let c = node.firstChild; c; c = c.nextSibling) out.push(c);
  return out;
}
