export { type AptPythonOptions, aptPythonPackages, aptPythonProvider, pythonFromApt } from './apt.js';
export { baseProvider, choosePythonProvider, type PythonChoice } from './choose.js';
export {
  BUILD_PREFIX,
  replacePrefix,
  rewritePkgconfig,
  rewriteScript,
  rewriteSysconfigdata,
} from './relocate.js';
export { STANDALONE_PREFIX, type StandaloneOptions, standaloneProvider } from './standalone.js';
export {
  loadStandaloneTable,
  type StandaloneAsset,
  type StandaloneLookup,
  type StandaloneTable,
  standaloneAsset,
} from './standalone-table.js';
export type { PythonLock, PythonProviderKind, PythonRuntime } from './types.js';
