#!/usr/bin/env node
// The published executable. `npm run build` writes the CLI as one file (dist/src/cli/cogts.mjs):
// resolving and loading ~300 module files was ~0.1 s of every run. Without it (tsc alone), the
// module tree runs. On Node ≥ 22.1 V8's compiled code is also kept between runs (Node's own
// compile cache, under the OS temp folder); Node 20 has no such cache and skips this.
import { existsSync } from 'node:fs';
import module from 'node:module';

module.enableCompileCache?.();
const bundle = new URL('../dist/src/cli/cogts.mjs', import.meta.url);
await import(existsSync(bundle) ? bundle.href : '../dist/src/cli/bin.js');
