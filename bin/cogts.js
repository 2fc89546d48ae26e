#!/usr/bin/env node
// The published executable: the compiled CLI lives in dist/ (npm run build).
await import('../dist/src/cli/bin.js');
