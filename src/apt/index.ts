/** Public API of the apt layer source; see README.md. */
export { dirRootfsView } from './dirview.js';
export { type AptInstallReport, formatReport, type InstallAptOptions, installApt } from './install.js';
export { type AptPackagePin, type AptResolution, type PlanAptOptions, planApt } from './plan.js';
export { applyMirrors, parseDeb822Sources, parseMirror, parseSourcesList, readSources } from './sources.js';
export type { AptSource, RootfsView } from './types.js';
export { compareVersions, satisfiesVersion } from './version.js';
