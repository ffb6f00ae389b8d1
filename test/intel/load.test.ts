/**
 * `--intel PATH…` inputs: feed files, folders and compiled stores (by magic,
 * whatever the file name) together; malformed lines are counted per feed in
 * the one stderr line, never fatal; attachIntel wires matchers with the
 * configured allow-lists into a pipeline.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IntelStoreBuilder } from '../../src/detect/intel/builder.js';
import { parseFeedText } from '../../src/detect/intel/feeds/registry.js';
import { attachIntel, feedSummaryLine, isIntelStoreFile, openIntel } from '../../src/detect/intel/load.js';
import { writeIntelStore } from '../../src/detect/intel/store.js';
import { parseIntelConfig } from '../../src/detect/intel/config.js';
import { parseIPv4 } from '../../src/detect/intel/normalize.js';
import { Pipeline } from '../../src/sensor/pipeline.js';
import { defaultConfig } from '../../src/sensor/config.js';
import { HarrierError } from '../../src/errors.js';

test('openIntel: feeds, folders and compiled stores mixed; malformed lines per feed in one line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'harrier-intel-load-'));
  try {
    mkdirSync(join(dir, 'feeds'));
    writeFileSync(join(dir, 'feeds', 'c2.txt'), '203.0.113.66\nnot an indicator at all\nevil.test\n');
    writeFileSync(join(dir, 'feeds', 'README.md'), '# not a feed\n');
    writeFileSync(join(dir, 'mining.txt'), 'pool.test\n???\n!!!\n');
    const b = new IntelStoreBuilder();
    parseFeedText('198.51.100.1\n', 'compiled-src.txt', b);
    const storeFile = join(dir, 'looks-like-a-feed.txt');
    writeIntelStore(b.build(), storeFile);
    assert.ok(isIntelStoreFile(storeFile));
    assert.ok(!isIntelStoreFile(join(dir, 'mining.txt')));
    const o = openIntel([join(dir, 'feeds'), join(dir, 'mining.txt'), storeFile]);
    assert.equal(o.stores.length, 2, 'the compiled store, and one store of the feeds');
    assert.equal(o.reports.length, 2, 'README skipped');
    const line = feedSummaryLine(o);
    assert.equal(line, 'intel: 2 feeds, 3 indicators, 1 compiled store; malformed lines: 2 (c2.txt 1, mining.txt 1)');
    assert.ok(o.stores.some((s) => s.lookupIPv4(parseIPv4('198.51.100.1')) >= 0));
    assert.ok(o.stores.some((s) => s.lookupDomain('x.evil.test') >= 0));
    assert.throws(() => openIntel([join(dir, 'missing')]), (e: unknown) => e instanceof HarrierError && e.code === 'HARRIER_ERR_INPUT_OPEN');

    // attachIntel: one matcher per store, the config's allow-list and max-per-flow; the log gets the line.
    const p = new Pipeline(defaultConfig(), {});
    const logs: string[] = [];
    const cfg = parseIntelConfig({ allowlist: ['evil.test', 'not valid!'], 'max-per-flow': 3 }, []);
    const ms = attachIntel(p, cfg, [join(dir, 'feeds'), storeFile], { log: (l) => logs.push(l) });
    assert.equal(ms.length, 2);
    assert.equal(logs.length, 2);
    assert.match(logs[0], /^intel: 1 feed, 2 indicators, 1 compiled store; malformed lines: 1 \(c2.txt 1\)$/);
    assert.match(logs[1], /1 allow-list entries are not an IP, CIDR or domain/);
    // No paths and no configured store: nothing attached.
    assert.deepEqual(attachIntel(p, parseIntelConfig({}, []), []), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
