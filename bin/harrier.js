#!/usr/bin/env node
// Entry point of the `harrier` command: runs the compiled CLI.
// `npm run build` (part of the README's set-up) produces dist/.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('harrier: not built yet; run `npm run build` (or `npm install`) first\n');
  process.exit(2);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv);
