import { CogtsError } from '../errors.js';
import type { RequestSpec, Response } from './client.js';
import { RETRYABLE_STATUS } from './retry.js';

export function header(res: { headers: Response['headers'] }, name: string): string | undefined {
  const v = res.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

interface RegistryErrorBody {
  errors?: { code?: string; message?: string; detail?: unknown }[];
}

/** Turns an unexpected answer into a CogtsError naming the request and the registry's own words. */
export async function responseError(spec: RequestSpec, res: Response, registry: string): Promise<CogtsError> {
  let text = '';
  try {
    text = (await res.body.text()).slice(0, 2000);
  } catch {
    // body unreadable: the status says enough
  }
  let detail = text.trim();
  let code: string | undefined;
  try {
    const j = JSON.parse(text) as RegistryErrorBody;
    if (j.errors?.length) {
      code = j.errors[0]?.code;
      detail = j.errors.map((e) => `${e.code}: ${e.message}`).join('; ');
    }
  } catch {
    // not JSON
  }
  const what = `${spec.method} ${redact(res.url)}`;
  const ours =
    code === 'MANIFEST_UNKNOWN' || code === 'NAME_UNKNOWN' || code === 'BLOB_UNKNOWN' || res.status === 404;
  const cogtsCode = ours
    ? 'E_REGISTRY_NOT_FOUND'
    : res.status === 401 || res.status === 403
      ? 'E_REGISTRY_DENIED'
      : RETRYABLE_STATUS.has(res.status)
        ? 'E_REGISTRY_UNAVAILABLE'
        : 'E_REGISTRY';
  const hint =
    cogtsCode === 'E_REGISTRY_DENIED'
      ? `log in with: cogts login ${registry}`
      : cogtsCode === 'E_REGISTRY_NOT_FOUND'
        ? 'check the repository name and tag'
        : undefined;
  return new CogtsError(
    cogtsCode,
    `registry ${registry} answered ${res.status} to ${what}${detail ? `: ${detail}` : ''}`,
    {
      ...(hint ? { hint } : {}),
    },
  );
}

export function redact(url: string): string {
  return url.replace(/_state=[^&]+/, '_state=…');
}

export function isTlsOnPlainHttp(err: unknown): boolean {
  for (
    let e = err as { code?: string; message?: string; cause?: unknown } | undefined;
    e;
    e = e.cause as typeof e
  ) {
    if (/WRONG_VERSION_NUMBER|packet length too long|EPROTO|http request/i.test(`${e.code} ${e.message}`))
      return true;
  }
  return false;
}
