import { createReadStream } from 'node:fs';
import { readFile, rm, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { lookup } from 'mime-types';
import { FILE_MARKER } from '../worker/protocol.js';
import { lazyGot } from './lazy-got.js';

/** How file outputs leave the server: inline data URLs, or PUT to `{uploadUrl}/{name}`. */
export interface FileOutputMode {
  uploadUrl?: string;
}

function isFileMarker(v: unknown): v is { [FILE_MARKER]: string } {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    typeof (v as Record<string, unknown>)[FILE_MARKER] === 'string' &&
    Object.keys(v).length === 1
  );
}

/** True if the value holds any file output (lets the common no-file path skip the async walk). */
export function hasFiles(v: unknown): boolean {
  if (isFileMarker(v)) return true;
  if (Array.isArray(v)) return v.some(hasFiles);
  if (typeof v === 'object' && v !== null) return Object.values(v).some(hasFiles);
  return false;
}

/**
 * Replaces every `{"$cogts_file": path}` in an output value by a data URL or an uploaded URL, and
 * deletes the file (the runner made it a private copy for exactly this hand-off).
 */
export async function resolveFiles(v: unknown, mode: FileOutputMode): Promise<unknown> {
  if (isFileMarker(v)) {
    const path = v[FILE_MARKER];
    try {
      return mode.uploadUrl ? await upload(path, mode.uploadUrl) : await dataUrl(path);
    } finally {
      await rm(path, { force: true });
    }
  }
  if (Array.isArray(v)) {
    const out = [];
    for (const item of v) out.push(await resolveFiles(item, mode));
    return out;
  }
  if (typeof v === 'object' && v !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, item] of Object.entries(v)) out[k] = await resolveFiles(item, mode);
    return out;
  }
  return v;
}

function contentType(path: string): string {
  return lookup(path) || 'application/octet-stream';
}

async function dataUrl(path: string): Promise<string> {
  const data = await readFile(path);
  return `data:${contentType(path)};base64,${data.toString('base64')}`;
}

async function upload(path: string, base: string): Promise<string> {
  const url = base.replace(/\/?$/, '/') + encodeURIComponent(basename(path));
  const size = (await stat(path)).size;
  const got = await lazyGot();
  const res = await got.put(url, {
    body: createReadStream(path),
    headers: { 'content-type': contentType(path), 'content-length': String(size) },
    retry: { limit: 3, methods: ['PUT'] },
    throwHttpErrors: true,
  });
  const location = res.headers.location;
  const final = location ? new URL(location, url).href : url;
  // The stored object's address, without any signing query the upload URL carried.
  const u = new URL(final);
  if (!location) u.search = '';
  return u.href;
}
