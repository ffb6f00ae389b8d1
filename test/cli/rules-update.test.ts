// `harrier rules update` against a local HTTP server (127.0.0.1) serving
// tarballs built here from a few rules: conditional requests (ETag → 304),
// retries, corrupt and oversize downloads, a set that does not load — and in
// every failure the installed set stays as it was.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { REPO_ROOT } from '../support/shared.js';
import { updateRules, unpack, diffRules, ruleIndex, type UpdateOptions } from '../../src/detect/rules/update.js';
import { readTar, writeTar } from '../../src/detect/rules/update-tar.js';
import { defaultConfig } from '../../src/sensor/config.js';
import { HarrierError } from '../../src/errors.js';

const RULES_V1 = [
  'alert tcp any any -> any 80 (msg:"one"; content:"aaa"; sid:1000001; rev:1;)',
  'alert tcp any any -> any 80 (msg:"two"; content:"bbb"; sid:1000002; rev:1;)',
  '# alert tcp any any -> any 80 (msg:"disabled"; content:"ccc"; sid:1000003; rev:1;)',
  'alert udp any any -> any 53 (msg:"three"; content:"ddd"; sid:1000004; rev:1;)',
].join('\n');
// v2: sid 1000002 changed, 1000004 removed, 1000005 added.
const RULES_V2 = [
  'alert tcp any any -> any 80 (msg:"one"; content:"aaa"; sid:1000001; rev:1;)',
  'alert tcp any any -> any 80 (msg:"two, better"; content:"bbb"; sid:1000002; rev:2;)',
  'alert tcp any any -> any 8080 (msg:"five"; content:"eee"; sid:1000005; rev:1;)',
].join('\n');

function tarball(files: Record<string, string>): Buffer {
  return gzipSync(writeTar(Object.entries(files).map(([name, text]) => ({ name, data: Buffer.from(text) }))));
}

const V1 = tarball({ 'rules/emerging-test.rules': RULES_V1, 'rules/classification.config': 'config classification: misc-activity,Misc activity,3\n' });
const V2 = tarball({ 'rules/emerging-test.rules': RULES_V2, 'rules/classification.config': 'config classification: misc-activity,Misc activity,3\n' });

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
let handler: Handler = (_req, res) => res.end();
const seen: { url: string; inm?: string; ims?: string }[] = [];
let server: Server;
let base = '';

before(async () => {
  server = createServer((req, res) => {
    seen.push({ url: req.url ?? '', inm: req.headers['if-none-match'] as string | undefined, ims: req.headers['if-modified-since'] as string | undefined });
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('no address');
  base = `http://127.0.0.1:${addr.port}`;
});
after(() => new Promise<void>((r) => server.close(() => r())));

function serve(body: Buffer, etag = '"v1"'): Handler {
  return (req, res) => {
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, { etag });
      res.end();
      return;
    }
    res.writeHead(200, { etag, 'last-modified': 'Sat, 01 Jun 2024 00:00:00 GMT', 'content-type': 'application/gzip', 'content-length': body.length });
    res.end(body);
  };
}

function opts(dir: string, extra: Partial<UpdateOptions> = {}): UpdateOptions {
  return { sources: [`${base}/emerging.rules.tar.gz`], dir, vars: defaultConfig().vars, backoffMs: 5, retries: 2, timeoutMs: 10_000, ...extra };
}

/** What is installed: the set `current` points to and its rule file. */
function installed(dir: string): { target: string; rules: string } {
  const target = readlinkSync(join(dir, 'current'));
  return { target, rules: readFileSync(join(dir, 'current', 'emerging-test.rules'), 'utf8') };
}

async function rejects(p: Promise<unknown>, re: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof HarrierError, String(err));
    assert.equal(err.code, 'HARRIER_ERR_RULES_UPDATE');
    assert.match(err.message, re);
    assert.match(err.message, /keeping the current rule set$/);
    assert.ok(!err.message.includes('\n'), 'one line');
    return true;
  });
}

test('tar reader: round trip, truncation and garbage are errors', () => {
  const t = writeTar([{ name: 'a/b.rules', data: Buffer.from('x') }, { name: 'c.config', data: Buffer.alloc(1000, 1) }]);
  const files = readTar(t);
  assert.deepEqual(files.map((f) => [f.name, f.data.length]), [['a/b.rules', 1], ['c.config', 1000]]);
  assert.throws(() => readTar(t.subarray(0, 1100)), /truncated/);
  assert.throws(() => readTar(Buffer.alloc(2048, 7)), /checksum/);
  assert.throws(() => unpack('http://x/r.tar.gz', Buffer.from('not gzip at all'), 1 << 20), /(gzip|checksum|tar)/);
  assert.throws(() => unpack('http://x/r.tar.gz', V1, 100), /more than 100 bytes/);
  assert.equal(unpack('http://x/local.rules', Buffer.from(RULES_V1), 1 << 20)[0].name, 'local.rules');
});

test('rule diff counts added, removed and modified active rules by gid:sid', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rules-diff-'));
  const a = new Map([['1:1', 'x'], ['1:2', 'y'], ['1:3', 'z']]);
  const b = new Map([['1:1', 'x'], ['1:2', 'Y'], ['1:4', 'w']]);
  assert.deepEqual(diffRules(a, b), { added: 1, removed: 1, modified: 1 });
  assert.equal(ruleIndex(dir).size, 0);
});

test('200 with ETag installs the set; the next run sends If-None-Match and a 304 changes nothing; a new tarball is diffed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rules-upd-'));
  handler = serve(V1, '"v1"');
  seen.length = 0;
  const r1 = await updateRules(opts(dir));
  assert.equal(r1.changed, true);
  assert.equal(r1.rules.loaded, 3, 'three active rules (one is commented out)');
  assert.deepEqual(r1.diff, { added: 3, removed: 0, modified: 0 });
  assert.equal(seen[0].inm, undefined, 'first fetch is unconditional');
  const first = installed(dir);
  assert.match(first.rules, /sid:1000004/);
  assert.ok(existsSync(join(dir, 'current', 'classification.config')), 'side files kept, folders flattened');

  const r2 = await updateRules(opts(dir));
  assert.equal(r2.changed, false);
  assert.equal(r2.sources[0].status, 'not-modified');
  assert.equal(seen[1].inm, '"v1"');
  assert.equal(seen[1].ims, 'Sat, 01 Jun 2024 00:00:00 GMT');
  assert.equal(installed(dir).target, first.target, 'nothing swapped');

  handler = serve(V2, '"v2"');
  const r3 = await updateRules(opts(dir));
  assert.equal(r3.changed, true);
  assert.deepEqual(r3.diff, { added: 1, removed: 1, modified: 1 });
  const now = installed(dir);
  assert.notEqual(now.target, first.target);
  assert.match(now.rules, /sid:1000005/);
  assert.ok(existsSync(join(dir, first.target)), 'the previous set is kept one generation');
  assert.equal(readdirSync(join(dir, 'sets')).length, 2);
});

test('500 then success: retried with backoff', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rules-upd-'));
  let n = 0;
  const ok = serve(V1);
  handler = (req, res) => {
    if (n++ === 0) {
      res.writeHead(500);
      res.end('boom');
    } else ok(req, res);
  };
  const r = await updateRules(opts(dir));
  assert.equal(r.changed, true);
  assert.equal(r.sources[0].attempts, 2);
});

test('a server that keeps failing: an error naming the status and attempts, nothing installed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rules-upd-'));
  handler = (_req, res) => {
    res.writeHead(503);
    res.end();
  };
  await rejects(updateRules(opts(dir, { retries: 2 })), /HTTP 503 after 3 attempts/);
  assert.ok(!existsSync(join(dir, 'current')));
});

test('truncated, garbage and not-loading sets are refused and the previous set is kept', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rules-upd-'));
  handler = serve(V1, '"v1"');
  await updateRules(opts(dir));
  const before = installed(dir);
  const state = readFileSync(join(dir, 'state.json'), 'utf8');

  handler = serve(V2.subarray(0, Math.floor(V2.length / 2)), '"trunc"');
  await rejects(updateRules(opts(dir)), /gzip|truncated|end of file/i);
  handler = serve(Buffer.from('<html>maintenance</html>'), '"garbage"');
  await rejects(updateRules(opts(dir)), /gzip|tar/i);
  handler = serve(tarball({ 'rules/bad.rules': 'this is not a rule; sid:5;\nalert nonsense (sid:6;)\n' }), '"bad"');
  await rejects(updateRules(opts(dir)), /does not load/);
  handler = serve(tarball({ 'README.txt': 'no rules here' }), '"norules"');
  await rejects(updateRules(opts(dir)), /no \.rules files/);

  assert.deepEqual(installed(dir), before, 'the installed set is untouched');
  assert.equal(readFileSync(join(dir, 'state.json'), 'utf8'), state, 'a refused download is not recorded');
  assert.deepEqual(readdirSync(join(dir, 'sets')).filter((n) => n.startsWith('.tmp')), [], 'no temporary folder left');
  // The next good run starts from the recorded ETag, so it gets the 304.
  handler = serve(V1, '"v1"');
  assert.equal((await updateRules(opts(dir))).changed, false);
});

test('a second update while one runs is refused; a stale lock is taken over', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rules-upd-'));
  handler = serve(V1);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, '.lock'), String(process.pid)); // a live process holds it
  await rejects(updateRules(opts(dir)), /another update is running/);
  writeFileSync(join(dir, '.lock'), '999999999'); // no such process
  assert.equal((await updateRules(opts(dir))).changed, true);
  assert.ok(!existsSync(join(dir, '.lock')), 'released');
});

test('oversize downloads are refused, with and without Content-Length', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rules-upd-'));
  handler = serve(V1);
  await rejects(updateRules(opts(dir, { maxDownloadBytes: 100 })), /over the 100-byte limit/);
  handler = (_req, res) => {
    res.writeHead(200); // chunked: no length announced
    res.write(V1.subarray(0, 80));
    res.end(V1.subarray(80));
  };
  await rejects(updateRules(opts(dir, { maxDownloadBytes: 100 })), /over the 100-byte limit/);
  assert.ok(!existsSync(join(dir, 'current')));
});

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'harrier.js'), ...args], { env: { ...process.env, HARRIER_RULES_UPDATE_BACKOFF_MS: '5' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

test('the command end to end: summary line on success, one error line and exit 1 on failure', async () => {
  // Two processes at once (each start-up is slow on a loaded machine), each with its own folder.
  const good = mkdtempSync(join(tmpdir(), 'rules-cli-'));
  const kept = mkdtempSync(join(tmpdir(), 'rules-cli-'));
  const v1 = serve(V1, '"v1"');
  handler = v1;
  await updateRules(opts(kept)); // a set to keep
  handler = (req, res) => {
    if (req.url === '/good.tar.gz') v1(req, res);
    else {
      res.writeHead(500);
      res.end();
    }
  };
  const [ok, bad] = await Promise.all([
    cli(['rules', 'update', '--url', `${base}/good.tar.gz`, '--dir', good]),
    cli(['rules', 'update', '--url', `${base}/broken.tar.gz`, '--dir', kept]),
  ]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /good\.tar\.gz: downloaded \d+ bytes/);
  assert.match(ok.stdout, /rules: updated .*current: 3 rules loaded, 0 failed; 3 added, 0 removed, 0 modified/);
  assert.equal(bad.code, 1);
  assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
  assert.match(bad.stderr, /^harrier: rules update failed: .*HTTP 500 after 4 attempts; keeping the current rule set \[HARRIER_ERR_RULES_UPDATE\]$/m);
  assert.match(readFileSync(join(kept, 'current', 'emerging-test.rules'), 'utf8'), /sid:1000001/);
});

test('config: rules.sources and rules.dir are read; bad values are one-line config errors', async () => {
  const { applyConfig } = await import('../../src/sensor/config.js');
  const c = applyConfig({ rules: { sources: ['https://example.org/a.tar.gz', { url: 'http://127.0.0.1/b.rules' }], dir: '/tmp/r', 'max-download': '10mb', retries: 1 } });
  assert.deepEqual(c.rulesUpdate.sources, ['https://example.org/a.tar.gz', 'http://127.0.0.1/b.rules']);
  assert.equal(c.rulesUpdate.dir, '/tmp/r');
  assert.equal(c.rulesUpdate.maxDownloadBytes, 10 * 1024 * 1024);
  assert.equal(c.rulesUpdate.retries, 1);
  assert.match(defaultConfig().rulesUpdate.sources[0], /emergingthreats\.net\/open\/suricata-7/);
  assert.throws(() => applyConfig({ rules: { sources: ['ftp://x'] } }), /rules\.sources\[0\] must be an http\(s\) URL/);
  assert.ok(!applyConfig({ rules: { dir: '/x' } }).warnings.some((w) => /unknown key rules/.test(w)));
});
