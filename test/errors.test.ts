// The error codes in src/errors.ts and docs/reference/errors.md must agree:
// users script against the codes, and the page is where they look them up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ERROR_CODES } from '../src/errors.js';
import { REPO_ROOT } from './support/shared.js';

test('every error code is documented with its meaning, and every documented code exists', () => {
  const page = readFileSync(join(REPO_ROOT, 'docs/reference/errors.md'), 'utf8');
  const documented = new Map<string, string>();
  for (const m of page.matchAll(/^\|\s*`(HARRIER_ERR_[A-Z0-9_]+)`\s*\|\s*(.+?)\s*\|\s*$/gm)) documented.set(m[1], m[2]);
  for (const [code, meaning] of Object.entries(ERROR_CODES)) {
    assert.equal(documented.get(code), meaning, `${code} in docs/reference/errors.md`);
  }
  for (const code of documented.keys()) assert.ok(code in ERROR_CODES, `${code} is documented but not defined`);
});
