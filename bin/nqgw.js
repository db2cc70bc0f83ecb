#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in dist/ (npm run build).
import('../dist/appliance/src/cli/main.js').catch((err) => {
  process.stderr.write(`nqgw: cannot start (${err && err.message}); run "npm run build" first\n`);
  process.exit(70);
});
