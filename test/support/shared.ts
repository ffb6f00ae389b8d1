/**
 * Access to the third-party test data in ../shared/data.
 *
 * That folder exists on the developers' machines and in CI but not in a
 * user's clone; tests that need it call `sharedPath()` and pass the result of
 * `skipWithoutShared()` as the test's `skip` option, so `npm test` passes (with
 * a message per skipped suite) where the data is absent. CI sets
 * HARRIER_REQUIRE_SHARED=1 so that a missing folder fails there instead.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (tests run from dist/test/…, sources live in test/…). */
export const REPO_ROOT = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('repository root not found');
    dir = up;
  }
  return dir;
})();

export const SHARED_DATA = process.env.HARRIER_SHARED_DATA ?? resolve(REPO_ROOT, '..', 'shared', 'data');

/** Absolute path of a file under ../shared/data, or null when it is absent. */
export function sharedPath(rel: string): string | null {
  const p = join(SHARED_DATA, rel);
  return existsSync(p) ? p : null;
}

/**
 * The `skip` option for a test needing `rel` under ../shared/data: false when
 * present, otherwise a message naming what is missing. Throws instead when
 * HARRIER_REQUIRE_SHARED=1 (CI), so a broken CI layout cannot pass silently.
 */
export function skipWithoutShared(rel = ''): string | false {
  if (sharedPath(rel) !== null) return false;
  if (process.env.HARRIER_REQUIRE_SHARED === '1') {
    throw new Error(`../shared/data/${rel} is required (HARRIER_REQUIRE_SHARED=1) but missing`);
  }
  return `skipped: ../shared/data/${rel} is not present (third-party test data, see README)`;
}

/** The `skip` option for a test needing an external program on PATH. */
export function skipWithoutProgram(name: string): string | false {
  const paths = (process.env.PATH ?? '').split(':');
  if (paths.some((d) => existsSync(join(d, name)))) return false;
  if (process.env.HARRIER_REQUIRE_TOOLS === '1') throw new Error(`${name} is required (HARRIER_REQUIRE_TOOLS=1) but not on PATH`);
  return `skipped: ${name} is not installed`;
}

/** The `skip` option for a test that must run as root (network namespaces). */
export function skipUnlessRoot(): string | false {
  if (process.getuid?.() === 0) return false;
  return 'skipped: needs root (creates network namespaces)';
}
