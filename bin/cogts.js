#!/usr/bin/env node
// The published executable. `npm run build` writes the CLI as one file (dist/src/cli/cogts.mjs):
// resolving and loading ~300 module files was ~0.1 s of every run. Without it (tsc alone), the
// module tree runs.
import { existsSync } from 'node:fs';

const bundle = new URL('../dist/src/cli/cogts.mjs', import.meta.url);
await import(existsSync(bundle) ? bundle.href : '../dist/src/cli/bin.js');
