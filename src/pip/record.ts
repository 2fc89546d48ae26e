/** RECORD files (binary distribution format): CSV of path, `sha256=<urlsafe b64, no padding>`, size. */
import { CogtsError } from '../errors.js';

export interface RecordRow {
  path: string;
  hash: string;
  size: string;
}

export function recordHash(hexOrBuf: Buffer): string {
  return `sha256=${hexOrBuf.toString('base64url')}`;
}

/** Minimal RFC 4180 reader: quoted fields with "" escapes, as Python's csv module writes them. */
export function parseRecord(text: string, where: string): RecordRow[] {
  const rows: RecordRow[] = [];
  for (const [n, line] of text.split(/\r?\n/).entries()) {
    if (!line.trim()) continue;
    const fields: string[] = [];
    let i = 0;
    while (i <= line.length) {
      if (line[i] === '"') {
        let v = '';
        i++;
        for (;;) {
          const q = line.indexOf('"', i);
          if (q < 0) throw new CogtsError('E_PIP_WHEEL', `${where}:${n + 1}: unterminated quote in RECORD`);
          v += line.slice(i, q);
          if (line[q + 1] === '"') {
            v += '"';
            i = q + 2;
          } else {
            i = q + 1;
            break;
          }
        }
        fields.push(v);
        i++;
      } else {
        const c = line.indexOf(',', i);
        const end = c < 0 ? line.length : c;
        fields.push(line.slice(i, end));
        i = end + 1;
      }
    }
    rows.push({ path: fields[0] ?? '', hash: fields[1] ?? '', size: fields[2] ?? '' });
  }
  return rows;
}

function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function formatRecord(rows: RecordRow[]): string {
  return rows.map((r) => `${csvField(r.path)},${csvField(r.hash)},${r.size}\n`).join('');
}
