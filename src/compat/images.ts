import { CogtsError } from '../errors.js';
import type { CudaImageRow, CudaImageTable, CudaVariant } from './tables.js';
import { compareVersions, sameMinor } from './versions.js';

export interface ImageWish {
  /** "12.1" (any patch) or "12.1.1" (exactly). */
  cuda: string;
  /** cuDNN major wanted in the image, or null for none. */
  cudnn: string | null;
  variant: CudaVariant;
}

/** Images that satisfy the wish, best first: newest patch, then preferred Ubuntu. */
export function matchingImages(table: CudaImageTable, wish: ImageWish): CudaImageRow[] {
  const exact = wish.cuda.split('.').length === 3;
  const rank = (u: string) => {
    const i = table.ubuntuPreference.indexOf(u);
    return i < 0 ? table.ubuntuPreference.length : i;
  };
  return table.images
    .filter((r) => (exact ? r.cuda === wish.cuda : sameMinor(r.cuda, wish.cuda)))
    .filter((r) => r.variant === wish.variant && r.cudnn === wish.cudnn)
    .sort((a, b) => compareVersions(b.cuda, a.cuda) || rank(a.ubuntu) - rank(b.ubuntu));
}

/** The CUDA major.minor versions that have an image of this flavour (for error messages). */
export function cudaVersionsWithImages(
  table: CudaImageTable,
  cudnn: string | null,
  variant: CudaVariant,
): string[] {
  const out = new Set<string>();
  for (const r of table.images) {
    if (r.variant === variant && r.cudnn === cudnn) out.add(r.cuda.split('.').slice(0, 2).join('.'));
  }
  return [...out].sort(compareVersions);
}

/** Newest cuDNN major published with this CUDA version (for gpu models without a framework). */
export function newestCudnnFor(table: CudaImageTable, cuda: string): string | null {
  const majors = table.images.filter((r) => sameMinor(r.cuda, cuda) && r.cudnn !== null).map((r) => r.cudnn!);
  return majors.sort(compareVersions).at(-1) ?? null;
}

export function pickImage(table: CudaImageTable, wish: ImageWish, why: string): CudaImageRow {
  const found = matchingImages(table, wish)[0];
  if (found) return found;
  const flavour = `${wish.cudnn ? `cudnn${wish.cudnn}-` : ''}${wish.variant}`;
  const have = cudaVersionsWithImages(table, wish.cudnn, wish.variant);
  throw new CogtsError('E_COMPAT', `no nvidia/cuda ${flavour} image for CUDA ${wish.cuda} (${why})`, {
    hint: have.length
      ? `CUDA versions with a ${flavour} image: ${have.join(', ')}; set build.cuda to one of them, or pass --base-image`
      : `pass --base-image to choose a base yourself`,
  });
}

export function imageRef(table: CudaImageTable, row: CudaImageRow): string {
  return `${table.repository}:${row.tag}`;
}
