export { rootfsFromDir } from './dir.js';
export { APT_KEEP, DETECT_KEEP, defaultKeep, ELF_HEAD_BYTES, ELF_HEAD_KEEP, keepGlobs } from './keep.js';
export { type LayersOptions, rootfsFromLayers } from './layers.js';
export type { KeepRule, LayerBlob, Rootfs, RootfsNodeType, RootfsStat } from './types.js';
