/** Core metadata (METADATA, RFC 822 style): just what resolution needs. */

import { CogtsError } from '../errors.js';
import { Pep508Error, parseRequirement, type Requirement } from './pep508.js';

export interface CoreMetadata {
  name: string;
  version: string;
  requiresDist: Requirement[];
  requiresPython?: string;
  providesExtra: string[];
}

export function parseMetadata(text: string, where: string): CoreMetadata {
  const headerEnd = text.search(/\r?\n\r?\n/);
  const head = headerEnd >= 0 ? text.slice(0, headerEnd) : text;
  const fields: [string, string][] = [];
  for (const line of head.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && fields.length) {
      const last = fields[fields.length - 1] as [string, string];
      last[1] += ` ${line.trim()}`;
    } else {
      const i = line.indexOf(':');
      if (i > 0) fields.push([line.slice(0, i).toLowerCase(), line.slice(i + 1).trim()]);
    }
  }
  const get = (k: string) => fields.filter(([f]) => f === k).map(([, v]) => v);
  const name = get('name')[0];
  const version = get('version')[0];
  if (!name || !version) throw new CogtsError('E_PIP_METADATA', `${where}: METADATA lacks Name or Version`);
  const requiresDist = get('requires-dist').map((r) => {
    try {
      return parseRequirement(r);
    } catch (e) {
      if (e instanceof Pep508Error)
        throw new CogtsError('E_PIP_METADATA', `${where}: bad Requires-Dist "${r}": ${e.message}`);
      throw e;
    }
  });
  const rp = get('requires-python')[0];
  return {
    name,
    version,
    requiresDist,
    requiresPython: rp || undefined,
    providesExtra: get('provides-extra'),
  };
}
