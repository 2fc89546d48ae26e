import { constants, createReadStream } from 'node:fs';
import { access, lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { isAbsolute, join, posix, relative, resolve } from 'node:path';
import ignore, { type Ignore } from 'ignore';
import { CogtsError } from '../errors.js';
import type { LayerEntry } from '../layer/entry.js';

export interface CodeLayerOptions {
  /** Where the project lands in the image (default /src). */
  dest?: string;
  /** Ignore files read from the project root, in order (later rules win). */
  ignoreFiles?: string[];
}

/** The matcher for a project: .dockerignore then .cogignore, gitignore semantics; .git always out. */
export async function projectIgnore(
  projectDir: string,
  files = ['.dockerignore', '.cogignore'],
): Promise<Ignore> {
  const ig = ignore().add('.git');
  for (const f of files) {
    const text = await readFile(join(projectDir, f), 'utf8').catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return undefined;
      throw new CogtsError('E_CODE_READ', `cannot read ${join(projectDir, f)}: ${e.message}`, { cause: e });
    });
    if (text !== undefined) ig.add(text);
  }
  return ig;
}

/**
 * The model-code layer source: the project directory as LayerEntry values under `/src`.
 * Only metadata is read here; file contents stream when the tar writer reaches them. Files that
 * cannot be read, special files, and symlinks leading outside the project are collected and
 * reported together, each by path, so one run shows every problem.
 */
export async function codeEntries(projectDir: string, opts: CodeLayerOptions = {}): Promise<LayerEntry[]> {
  const root = resolve(projectDir);
  const dest = opts.dest ?? '/src';
  const ig = await projectIgnore(root, opts.ignoreFiles);
  const entries: LayerEntry[] = [{ type: 'dir', path: dest }];
  const problems: string[] = [];
  const inodes = new Map<string, string>();

  async function walk(relDir: string): Promise<void> {
    let names: string[];
    try {
      names = (await readdir(join(root, relDir))).sort();
    } catch (e) {
      problems.push(`${relDir || '.'}: cannot list directory (${(e as NodeJS.ErrnoException).code})`);
      return;
    }
    for (const name of names) {
      const rel = relDir ? `${relDir}/${name}` : name;
      const abs = join(root, rel);
      const st = await lstat(abs);
      if (ig.ignores(st.isDirectory() ? `${rel}/` : rel)) continue;
      const path = posix.join(dest, rel);
      if (st.isDirectory()) {
        entries.push({ type: 'dir', path });
        await walk(rel);
      } else if (st.isSymbolicLink()) {
        const target = await readlink(abs);
        const resolved = isAbsolute(target) ? target : resolve(join(root, relDir), target);
        const inside = relative(root, resolved);
        if (inside.startsWith('..') || isAbsolute(inside)) {
          problems.push(`${rel}: symlink to ${target} points outside the project`);
          continue;
        }
        // Absolute links into the project are rewritten relative, so they resolve inside the image.
        const stored = isAbsolute(target)
          ? posix.relative(posix.join(dest, relDir), posix.join(dest, inside)) || '.'
          : target;
        entries.push({ type: 'symlink', path, target: stored });
      } else if (st.isFile()) {
        try {
          await access(abs, constants.R_OK);
        } catch (e) {
          problems.push(`${rel}: cannot be read (${(e as NodeJS.ErrnoException).code})`);
          continue;
        }
        const key = `${st.dev}:${st.ino}`;
        const first = st.nlink > 1 ? inodes.get(key) : undefined;
        if (first) {
          entries.push({ type: 'hardlink', path, target: first });
          continue;
        }
        if (st.nlink > 1) inodes.set(key, path);
        entries.push({
          type: 'file',
          path,
          size: st.size,
          executable: (st.mode & 0o111) !== 0,
          open: () => createReadStream(abs, { highWaterMark: 1 << 20 }),
        });
      } else {
        problems.push(
          `${rel}: not a regular file, directory or symlink (sockets, FIFOs and devices cannot be copied)`,
        );
      }
    }
  }

  await walk('');
  if (problems.length > 0) {
    throw new CogtsError(
      'E_CODE_FILES',
      `${problems.length} file(s) in ${root} cannot go into the image:\n  ${problems.join('\n  ')}`,
      { hint: 'fix them or list them in .cogignore (or .dockerignore)' },
    );
  }
  return entries;
}
