/**
 * `intel update` against local servers on 127.0.0.1 (HTTP, and HTTPS with a
 * self-signed certificate made here with openssl): 200, 304 with
 * ETag/If-None-Match, 500 retried with backoff, timeout, oversize, garbage
 * (refused), redirects, offline `path:` feeds; each failing feed keeps its
 * last good copy and says so in one line; the store is swapped atomically and
 * left untouched when nothing compiles.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseIntelConfig, type IntelConfig } from '../../src/detect/intel/config.js';
import { updateIntel } from '../../src/detect/intel/update.js';
import { loadIntelStore } from '../../src/detect/intel/store.js';
import { parseIPv4 } from '../../src/detect/intel/normalize.js';
import { HarrierError } from '../../src/errors.js';

interface Srv {
  base: string;
  hits: Map<string, number>;
  headers: Map<string, http.IncomingHttpHeaders>;
  phase: { n: number };
  close(): Promise<void>;
}

const GOOD = '# good feed\n203.0.113.1\nbad-one.test\n';
const TOGGLE = '203.0.113.2\ntoggle.test\n';

function handler(s: { hits: Map<string, number>; headers: Map<string, http.IncomingHttpHeaders>; phase: { n: number } }) {
  return (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const path = req.url ?? '/';
    s.hits.set(path, (s.hits.get(path) ?? 0) + 1);
    s.headers.set(path, req.headers);
    const n = s.hits.get(path)!;
    switch (path) {
      case '/good.txt':
        if (req.headers['if-none-match'] === '"v1"') {
          res.writeHead(304);
          res.end();
          return;
        }
        res.writeHead(200, { etag: '"v1"', 'last-modified': 'Sat, 28 Nov 2026 10:00:00 GMT', 'content-type': 'text/plain' });
        res.end(GOOD);
        return;
      case '/flaky.txt':
        if (n <= 2) {
          res.writeHead(503);
          res.end('busy');
          return;
        }
        res.writeHead(200);
        res.end('flaky.test\n');
        return;
      case '/down.txt':
        res.writeHead(500);
        res.end('oops');
        return;
      case '/slow.txt':
        return; // never answers
      case '/big.txt': {
        res.writeHead(200); // chunked: no Content-Length to refuse early
        const line = '203.0.113.9\n'.repeat(1000);
        for (let i = 0; i < 20; i++) res.write(line);
        res.end();
        return;
      }
      case '/garbage.txt':
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<html>\n<head><title>Maintenance</title></head>\n<body>\n<p>We are down for maintenance.</p>\n</body>\n</html>\n');
        return;
      case '/moved':
        res.writeHead(302, { location: '/toggle.txt' });
        res.end();
        return;
      case '/toggle.txt':
        if (s.phase.n === 1) {
          res.writeHead(200);
          res.end(TOGGLE);
        } else {
          res.writeHead(500);
          res.end();
        }
        return;
      default:
        res.writeHead(404);
        res.end();
    }
  };
}

async function listen(server: http.Server | https.Server, scheme: string, st: Omit<Srv, 'base' | 'close'>): Promise<Srv> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    ...st,
    base: `${scheme}://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections?.();
        server.close(() => r());
      }),
  };
}

function cfgOf(doc: unknown): IntelConfig {
  const warnings: string[] = [];
  const c = parseIntelConfig(doc, warnings);
  assert.deepEqual(warnings, []);
  return c;
}

test('intel update: 200/304/retries/timeout/oversize/garbage/redirect/https/local, last good copies, atomic swap', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'harrier-intel-update-'));
  const st = { hits: new Map<string, number>(), headers: new Map<string, http.IncomingHttpHeaders>(), phase: { n: 1 } };
  const srv = await listen(http.createServer(handler(st)), 'http', st);
  // HTTPS: a self-signed certificate for 127.0.0.1, trusted through update.ca-file.
  const key = join(dir, 'key.pem');
  const crt = join(dir, 'crt.pem');
  const ossl = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', crt, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { encoding: 'utf8' });
  assert.equal(ossl.status, 0, ossl.stderr);
  const tst = { hits: new Map<string, number>(), headers: new Map<string, http.IncomingHttpHeaders>(), phase: st.phase };
  const tls = await listen(https.createServer({ key: readFileSync(key), cert: readFileSync(crt) }, handler(tst)), 'https', tst);
  try {
    writeFileSync(join(dir, 'local-c2.txt'), 'local.test\n198.51.100.200\n');
    const store = join(dir, 'intel.hrn');
    const doc = {
      store,
      feeds: [
        { name: 'good', url: `${srv.base}/good.txt`, category: 'c2', confidence: 70 },
        { name: 'flaky', url: `${srv.base}/flaky.txt` },
        { name: 'down', url: `${srv.base}/down.txt` },
        { name: 'slow', url: `${srv.base}/slow.txt` },
        { name: 'big', url: `${srv.base}/big.txt`, 'max-size': '64kb' },
        { name: 'garbage', url: `${srv.base}/garbage.txt` },
        { name: 'moved', url: `${srv.base}/moved`, category: 'malware' },
        { name: 'secure', url: `${tls.base}/good.txt`, category: 'c2' },
        { name: 'local', path: join(dir, 'local-c2.txt') },
      ],
      update: { timeout: 0.5, retries: 3, backoff: 0.2, 'ca-file': crt },
    };
    const sleeps: number[] = [];
    const lines: string[] = [];
    const r1 = await updateIntel(cfgOf(doc), { log: (l) => lines.push(l), sleep: async (ms) => void sleeps.push(ms) });
    const status = Object.fromEntries(r1.outcomes.map((o) => [o.name, o.status]));
    assert.deepEqual(status, { good: 'updated', flaky: 'updated', down: 'failed', slow: 'failed', big: 'failed', garbage: 'failed', moved: 'updated', secure: 'updated', local: 'local' });
    const line = (n: string): string => lines.find((l) => l.startsWith(`${n}:`))!;
    assert.equal(lines.filter((l) => /^\w+:/.test(l)).length, 9, 'one line per feed');
    assert.match(line('down'), /FAILED \(HTTP 500 after 4 attempts\); no earlier copy/);
    assert.match(line('slow'), /FAILED \(no complete answer within 0.5 s after 4 attempts\)/);
    assert.match(line('big'), /FAILED \(larger than the 65536-byte limit\)/);
    assert.match(line('garbage'), /FAILED \(refused: (mostly malformed|parses to no indicator)/);
    assert.equal(st.hits.get('/flaky.txt'), 3, 'two 503s, then success');
    assert.equal(st.hits.get('/big.txt'), 1, 'oversize is not retried');
    assert.deepEqual(sleeps.slice(0, 2), [200, 400], 'exponential backoff');
    const s1 = loadIntelStore(store);
    for (const ip of ['203.0.113.1', '203.0.113.2', '198.51.100.200']) assert.ok(s1.lookupIPv4(parseIPv4(ip)) >= 0, ip);
    for (const d of ['flaky.test', 'toggle.test', 'local.test', 'bad-one.test']) assert.ok(s1.lookupDomain(d) >= 0, d);
    assert.ok(s1.lookupIPv4(parseIPv4('203.0.113.9')) < 0, 'the oversize feed left out');
    const good = s1.describe(s1.lookupDomain('bad-one.test'));
    assert.deepEqual(good.map((m) => `${m.feed} ${m.category} ${m.confidence}`).sort(), ['good c2 70', 'secure c2 -1']);
    assert.deepEqual(s1.describe(s1.lookupDomain('toggle.test')).map((m) => m.category), ['malware']);
    assert.equal(tst.hits.get('/good.txt'), 1, 'HTTPS feed fetched with the configured CA');
    assert.ok(!readdirSync(dir).some((f) => f.includes('.tmp-')), 'no temporary file left');

    // Second run: 304 for the unchanged feed; the toggled feed now fails and keeps its copy.
    st.phase.n = 2;
    lines.length = 0;
    const r2 = await updateIntel(cfgOf(doc), { log: (l) => lines.push(l), sleep: async () => {} });
    assert.equal(st.headers.get('/good.txt')?.['if-none-match'], '"v1"');
    assert.equal(st.headers.get('/good.txt')?.['if-modified-since'], 'Sat, 28 Nov 2026 10:00:00 GMT');
    const status2 = Object.fromEntries(r2.outcomes.map((o) => [o.name, o.status]));
    assert.equal(status2.good, 'not-modified');
    assert.equal(status2.moved, 'kept');
    assert.match(line('moved'), /FAILED \(HTTP 500 after 4 attempts\); keeping the last good copy from 20\d\d-/);
    const s2 = loadIntelStore(store);
    assert.ok(s2.lookupDomain('toggle.test') >= 0, 'the kept copy is still compiled in');
    assert.ok(s2.lookupDomain('bad-one.test') >= 0, 'the 304 feed is still compiled in');

    // Nothing compiles: an error, and the existing store is untouched.
    const before = readFileSync(store);
    const mtime = statSync(store).mtimeMs;
    const none = { store, 'state-dir': join(dir, 'empty-state'), feeds: [{ name: 'down', url: `${srv.base}/down.txt` }, { name: 'garbage', url: `${srv.base}/garbage.txt` }], update: { retries: 0 } };
    await assert.rejects(
      updateIntel(cfgOf(none), { sleep: async () => {} }),
      (e: unknown) => e instanceof HarrierError && e.code === 'HARRIER_ERR_INTEL_UPDATE',
    );
    assert.deepEqual(readFileSync(store), before);
    assert.equal(statSync(store).mtimeMs, mtime);

    // HTTPS without the CA: the self-signed certificate is refused (not retried forever).
    const noCa = { store: join(dir, 'other.hrn'), feeds: [{ name: 'secure', url: `${tls.base}/good.txt` }, { name: 'local', path: join(dir, 'local-c2.txt') }], update: { retries: 0 } };
    lines.length = 0;
    await updateIntel(cfgOf(noCa), { log: (l) => lines.push(l) });
    assert.match(line('secure'), /FAILED \(.*(SELF_SIGNED|self.signed|CERT|certificate)/i);
    assert.ok(existsSync(join(dir, 'other.hrn')));
  } finally {
    await srv.close();
    await tls.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('intel config: bad values are one-line config errors; unknown keys warn', () => {
  const bad = (doc: unknown, re: RegExp): void =>
    assert.throws(() => parseIntelConfig(doc, []), (e: unknown) => e instanceof HarrierError && e.code === 'HARRIER_ERR_CONFIG' && re.test(e.message));
  bad({ feeds: [{ name: 'x' }] }, /needs exactly one of url or path/);
  bad({ feeds: [{ name: 'x', url: 'ftp://a/b' }] }, /must be http/);
  bad({ feeds: [{ name: 'a b', path: 'x' }] }, /names a file/);
  bad({ feeds: [{ name: 'x', path: 'p', format: 'nope' }] }, /format must be one of/);
  bad({ feeds: [{ name: 'x', path: 'p' }, { name: 'x', path: 'q' }] }, /duplicate/);
  bad({ allowlists: [{ entries: ['1.2.3.4'] }] }, /needs a namespace or a workload/);
  bad({ update: { 'max-size': 'lots' } }, /max-size must be a size/);
  const w: string[] = [];
  const c = parseIntelConfig({ colour: 'red', update: { speed: 1 }, allowlist: ['10.0.0.0/8'], allowlists: [{ namespace: 'shop', workload: 'Deployment/cart', entries: ['a.test'] }] }, w);
  assert.deepEqual(w, ['config: ignoring unknown key intel.colour', 'config: ignoring unknown key intel.update.speed']);
  assert.deepEqual(c.allowlists, [{ namespace: 'shop', workload: 'Deployment/cart', entries: ['a.test'] }]);
});
