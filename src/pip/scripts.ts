/** console_scripts / gui_scripts wrappers and `#!python` rewriting, as pip writes them on Linux. */
import { CogtsError } from '../errors.js';

export interface EntryPoint {
  name: string;
  module: string;
  /** Dotted attribute path, may be empty ("module" only is not valid for scripts). */
  attr: string;
}

/** Parse the console_scripts and gui_scripts sections of entry_points.txt (INI). */
export function parseScriptEntryPoints(text: string, where: string): EntryPoint[] {
  const out: EntryPoint[] = [];
  let section = '';
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const sm = /^\[(.+)\]$/.exec(line);
    if (sm) {
      section = (sm[1] as string).trim();
      continue;
    }
    if (section !== 'console_scripts' && section !== 'gui_scripts') continue;
    const m = /^([^=\s][^=]*?)\s*=\s*([\w.]+)\s*(?::\s*([\w.]+))?\s*(\[.*\])?$/.exec(line);
    if (!m) throw new CogtsError('E_PIP_WHEEL', `${where}: cannot parse entry point "${line}"`);
    if (!m[3])
      throw new CogtsError('E_PIP_WHEEL', `${where}: script entry point "${line}" names no function`);
    const name = (m[1] as string).trim();
    if (name.includes('/') || name.startsWith('.'))
      throw new CogtsError(
        'E_PIP_WHEEL_UNSAFE_PATH',
        `${where}: script name "${name}" is not a plain file name`,
      );
    out.push({ name, module: m[2] as string, attr: m[3] });
  }
  return out;
}

export function scriptWrapper(ep: EntryPoint, interpreter: string): string {
  const top = ep.attr.split('.')[0] as string;
  return `#!${interpreter}
# -*- coding: utf-8 -*-
import re
import sys
from ${ep.module} import ${top}
if __name__ == '__main__':
    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])
    sys.exit(${ep.attr}())
`;
}

/** Rewrite a leading `#!python` / `#!pythonw` line (the wheel spec's placeholder) to the image interpreter. */
export function rewriteShebang(content: Buffer, interpreter: string): Buffer | undefined {
  const m = /^#!pythonw?(\r?\n| [^\n]*\n)/.exec(content.subarray(0, 256).toString('latin1'));
  if (!m) return undefined;
  const rest = m[1] as string;
  return Buffer.concat([
    Buffer.from(`#!${interpreter}${rest.startsWith(' ') ? rest : '\n'}`),
    content.subarray(m[0].length),
  ]);
}
