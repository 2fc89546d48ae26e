import { readFile } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import type { Config } from '../config/types.js';
import { CogtsError } from '../errors.js';

/**
 * The Python requirements of a model as the compat step needs them: every requirement line (from
 * `build.python_packages` and the requirements file, `-r` includes followed) with its name and
 * version specifier split out, plus the index options the files carry. This is not a pip
 * resolver (that is src/pip); it reads just enough to choose CUDA, Python and wheel indexes.
 */
export interface Requirement {
  /** PEP 503 normalised name ("torch", "nvidia-cudnn-cu12"); undefined for URL/path lines. */
  name?: string;
  /** Version specifier without spaces: "==2.1.0+cu118", ">=2,<2.2", "" when none. */
  specifier: string;
  extras: string[];
  /** Environment marker after `;`, as written. */
  marker?: string;
  /** The requirement as written (without hashes, options and comments). */
  line: string;
  /** Where it was written, for messages: "cog.yaml build.python_packages[0]", "requirements.txt:3". */
  origin: string;
}

export interface ParsedPins {
  requirements: Requirement[];
  /** `--index-url`/`-i` from the requirements files (replaces PyPI). */
  indexUrl?: string;
  extraIndexUrls: string[];
  findLinks: string[];
}

export function normaliseName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

const requirementRe = /^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*([^;]*?)\s*(?:;\s*(.*))?$/;

/** Splits one requirement string (no options, no comment) into its parts. */
export function parseRequirement(text: string, origin: string): Requirement {
  const line = text.trim();
  const m = requirementRe.exec(line);
  if (!m || m[3]!.startsWith('@') || /^[a-z+]+:\/\//i.test(line)) {
    // `name @ url`, a bare URL or a local path: the resolver handles it; the name is still useful.
    const direct = /^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*@/.exec(line);
    const req: Requirement = { specifier: '', extras: [], line, origin };
    if (direct) req.name = normaliseName(direct[1]!);
    return req;
  }
  const req: Requirement = {
    name: normaliseName(m[1]!),
    specifier: m[3]!.replace(/\s+/g, ''),
    extras: m[2]
      ? m[2]
          .slice(1, -1)
          .split(',')
          .map((e) => e.trim())
          .filter(Boolean)
      : [],
    line,
    origin,
  };
  if (m[4]) req.marker = m[4].trim();
  return req;
}

/** A requirements file's text → its pins and options; `-r` includes are returned for the caller. */
export function parseRequirementsText(
  text: string,
  fileLabel: string,
): { pins: ParsedPins; includes: { path: string; origin: string }[] } {
  const pins: ParsedPins = { requirements: [], extraIndexUrls: [], findLinks: [] };
  const includes: { path: string; origin: string }[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    let line = lines[i]!;
    while (line.endsWith('\\') && i + 1 < lines.length) line = line.slice(0, -1) + lines[++i];
    line = line.replace(/(^|\s)#.*$/, '').trim();
    if (line === '') continue;
    const origin = `${fileLabel}:${lineNo}`;
    const opt = /^(-[a-zA-Z]|--[a-z-]+)(?:\s*=\s*|\s+)?(.*)$/.exec(line);
    if (opt && line.startsWith('-')) {
      const [, flag, value] = opt as unknown as [string, string, string];
      const v = value.trim();
      if (flag === '-r' || flag === '--requirement') includes.push({ path: v, origin });
      else if (flag === '-i' || flag === '--index-url') pins.indexUrl = v;
      else if (flag === '--extra-index-url') pins.extraIndexUrls.push(v);
      else if (flag === '-f' || flag === '--find-links') pins.findLinks.push(v);
      // -c constraints, --pre, --no-binary, -e editable installs: the resolver's business.
      continue;
    }
    // Per-requirement options (`--hash=sha256:…`, `--config-settings`) follow the requirement.
    const requirement = line.replace(/\s--?[a-z-]+(=\S+|\s+\S+)?/g, '').trim();
    pins.requirements.push(parseRequirement(requirement, origin));
  }
  return { pins, includes };
}

/**
 * Reads every requirement of a Config: `build.python_packages` first, then the requirements
 * file and what it includes (`-r`, relative to the including file; each file read once).
 */
export async function readPins(config: Config): Promise<ParsedPins> {
  const out: ParsedPins = { requirements: [], extraIndexUrls: [], findLinks: [] };
  config.build.pythonPackages.forEach((p, i) => {
    out.requirements.push(parseRequirement(p, `cog.yaml build.python_packages[${i}]`));
  });
  if (config.build.pythonRequirements === undefined) return out;
  const seen = new Set<string>();
  const visit = async (path: string, origin: string) => {
    if (seen.has(path)) return;
    seen.add(path);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      throw new CogtsError('E_CONFIG', `${origin}: cannot read requirements file ${path}`, { cause: err });
    }
    const label = relative(config.projectDir, path) || path;
    const { pins, includes } = parseRequirementsText(text, label);
    out.requirements.push(...pins.requirements);
    if (pins.indexUrl !== undefined) out.indexUrl = pins.indexUrl;
    out.extraIndexUrls.push(...pins.extraIndexUrls.filter((u) => !out.extraIndexUrls.includes(u)));
    out.findLinks.push(...pins.findLinks.filter((u) => !out.findLinks.includes(u)));
    for (const inc of includes) await visit(resolve(dirname(path), inc.path), inc.origin);
  };
  await visit(
    resolve(config.projectDir, config.build.pythonRequirements),
    'cog.yaml build.python_requirements',
  );
  return out;
}
