export {
  detectArchitecture,
  detectImage,
  detectLibc,
  dpkgVersion,
  elfArchitecture,
  glibcVersionFromBanner,
  type ImageFacts,
  type LibcInfo,
  type OsRelease,
  parseOsRelease,
  readIfKept,
  readOsRelease,
} from './detect.js';
export { rootfsFromDir } from './dir.js';
export { APT_KEEP, DETECT_KEEP, defaultKeep, ELF_HEAD_BYTES, ELF_HEAD_KEEP, keepGlobs } from './keep.js';
export { type LayersOptions, rootfsFromLayers } from './layers.js';
export { findPython, listPythons, type PythonInstall } from './python.js';
export type { KeepRule, LayerBlob, Rootfs, RootfsNodeType, RootfsStat } from './types.js';
