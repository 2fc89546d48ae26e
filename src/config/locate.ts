import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import type { FieldPath } from './problems.js';

/**
 * Maps field paths back to line:column in the source text. js-yaml (which loads the values) keeps
 * no per-node positions, so the same text is parsed a second time with the `yaml` package, whose
 * nodes carry source ranges. This only runs when there is something to report (or a source
 * spelling to recover), so a valid cog.yaml is parsed once.
 */
export class SourceLocator {
  private readonly lines = new LineCounter();
  private readonly root: unknown;

  constructor(text: string) {
    // Errors are ignored here: js-yaml already accepted the text, so this parse is only a map.
    this.root = parseDocument(text, { lineCounter: this.lines, uniqueKeys: false }).contents;
  }

  /**
   * Position of the node at `path`: of the key itself when `atKey` (unknown keys), else of the
   * value. A path that does not exist (a missing key) falls back to its deepest existing parent.
   */
  locate(path: FieldPath, atKey = false): { line: number; column: number } {
    let node: unknown = this.root;
    let offset = 0;
    for (let i = 0; i < path.length; i++) {
      const seg = path[i]!;
      const last = i === path.length - 1;
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
        if (!pair) break;
        const keyNode = pair.key as Node;
        if (last && atKey) {
          offset = keyNode.range?.[0] ?? offset;
          node = undefined;
          break;
        }
        // `gpu:` with no value has no value node: point at the key.
        const valueNode = pair.value as Node | null;
        offset = valueNode?.range?.[0] ?? keyNode.range?.[0] ?? offset;
        node = valueNode;
      } else if (isSeq(node) && typeof seg === 'number') {
        const item = node.items[seg] as Node | undefined;
        if (!item) break;
        offset = item.range?.[0] ?? offset;
        node = item;
      } else {
        break;
      }
      if (node === null) break;
    }
    if (path.length === 0 && isMap(this.root)) offset = this.root.range?.[0] ?? 0;
    const pos = this.lines.linePos(offset);
    return { line: pos.line, column: pos.col };
  }

  /** The scalar's text as written (`3.10` stays "3.10", where a YAML number would be 3.1). */
  sourceText(path: FieldPath): string | undefined {
    let node: unknown = this.root;
    for (const seg of path) {
      if (isMap(node)) node = node.items.find((p) => isScalar(p.key) && String(p.key.value) === seg)?.value;
      else if (isSeq(node) && typeof seg === 'number') node = node.items[seg];
      else return undefined;
    }
    return isScalar(node) ? node.source : undefined;
  }
}
