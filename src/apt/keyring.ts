import type { Key } from 'openpgp';
import { CogtsError } from '../errors.js';
import type { AptSource, RootfsView } from './types.js';

/** Keys that may sign one source's InRelease, with where they came from (for error messages). */
export interface Keyring {
  keys: Key[];
  files: string[];
}

/**
 * openpgp is ~70 ms of module loading that only builds with system packages need, so every other
 * command (and a build without apt) never pays for it.
 */
const pgp = () => import('openpgp');

async function parseKeyFile(data: Buffer): Promise<Key[]> {
  const { readKeys } = await pgp();
  const text = data.subarray(0, 64).toString('latin1');
  if (text.includes('-----BEGIN PGP')) return readKeys({ armoredKeys: data.toString('utf8') });
  return readKeys({ binaryKeys: new Uint8Array(data) });
}

async function readKeyFiles(view: RootfsView, paths: string[]): Promise<Keyring> {
  const ring: Keyring = { keys: [], files: [] };
  for (const p of paths) {
    const data = view.readFile(p);
    if (!data || data.length === 0) continue;
    try {
      ring.keys.push(...(await parseKeyFile(data)));
      ring.files.push(p);
    } catch {
      // apt also ignores keyrings gpgv cannot read (e.g. keys with algorithms openpgp.js lacks).
    }
  }
  return ring;
}

/**
 * apt's trust rule (sources.list(5) Signed-By): a source with Signed-By trusts exactly that keyring
 * (or inline key); without it, the global /etc/apt/trusted.gpg and /etc/apt/trusted.gpg.d/*.{gpg,asc}.
 * /usr/share/keyrings holds the files Signed-By points at; it is not trusted wholesale, as in apt.
 */
export async function keyringFor(source: AptSource, view: RootfsView): Promise<Keyring> {
  const { readKeys } = await pgp();
  if (source.signedByInline)
    return { keys: await readKeys({ armoredKeys: source.signedByInline }), files: ['(inline Signed-By)'] };
  if (source.signedBy?.startsWith('/')) return readKeyFiles(view, [source.signedBy]);
  const global = [
    '/etc/apt/trusted.gpg',
    ...view
      .list('/etc/apt/trusted.gpg.d')
      .filter((n) => /\.(gpg|asc)$/.test(n))
      .map((n) => `/etc/apt/trusted.gpg.d/${n}`),
  ];
  return readKeyFiles(view, global);
}

/**
 * Verifies an InRelease clear-signature; returns the signed text (only that text may be trusted:
 * anything outside the signed block is ignored). At least one signature must verify with a key
 * from the ring, like gpgv's "good signature" that apt requires.
 */
export async function verifyInRelease(data: Buffer, ring: Keyring, url: string): Promise<string> {
  const where = `${url} (keys from ${ring.files.join(', ') || 'no keyring found'})`;
  if (ring.keys.length === 0)
    throw new CogtsError('E_APT_SIGNATURE', `no trusted keys to check ${where}`, {
      hint: "the base image's apt keyring is missing; add the archive key or Signed-By",
    });
  const { readCleartextMessage, verify } = await pgp();
  let message: Awaited<ReturnType<typeof readCleartextMessage>>;
  try {
    message = await readCleartextMessage({ cleartextMessage: data.toString('utf8') });
  } catch (e) {
    throw new CogtsError('E_APT_SIGNATURE', `${url} is not an OpenPGP clear-signed file`, {
      cause: e,
      hint: 'apt refuses unsigned repositories too',
    });
  }
  const result = await verify({ message, verificationKeys: ring.keys });
  const errors: string[] = [];
  for (const s of result.signatures) {
    try {
      await s.verified;
      return message.getText();
    } catch (e) {
      errors.push(`key ${s.keyID.toHex()}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  throw new CogtsError(
    'E_APT_SIGNATURE',
    `bad or untrusted signature on ${where}: ${errors.join('; ') || 'no signatures'}`,
    {
      hint: 'the mirror may be tampered with, or the base image lacks the key that signs this archive',
    },
  );
}
