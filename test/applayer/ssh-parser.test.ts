/**
 * SSH parsing on hand-built sessions: banners, KEXINIT → HASSH, NEWKEYS ends
 * parsing, the stream split at every byte, hostile banners and records.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Probe } from '../../src/applayer/parser.js';
import { parseBannerLine, probeSsh, sshParser } from '../../src/applayer/ssh/index.js';
import { skipWithoutShared } from '../support/shared.js';
import { eveSchemaErrors } from '../support/eve-schema.js';
import { Collect } from './dns-support.js';
import { C_HASSH, C_LISTS, EXPECTED, NEWKEYS, TO_CLIENT, TO_SERVER, kexinit, md5 } from './ssh-support.js';

function run(toServer: Buffer, toClient: Buffer, cutS: number[] = [], cutC: number[] = [], end = true): Collect {
  const ctx = new Collect();
  const st = sshParser.create(ctx);
  // Interleave the two directions chunk by chunk, as a real exchange would be.
  const chunks = (data: Buffer, cuts: number[]): Buffer[] => {
    const out: Buffer[] = [];
    let prev = 0;
    for (const c of [...cuts, data.length]) {
      out.push(data.subarray(prev, c));
      prev = c;
    }
    return out;
  };
  const s = chunks(toServer, cutS);
  const c = chunks(toClient, cutC);
  for (let i = 0; i < Math.max(s.length, c.length); i++) {
    if (i < s.length) sshParser.parse(st, 0, s[i], 0, s[i].length, 0);
    if (i < c.length) sshParser.parse(st, 1, c[i], 0, c[i].length, 0);
  }
  if (end) sshParser.end?.(st);
  return ctx;
}

test('banners and KEXINIT give Suricata 7 ssh EVE with HASSH and HASSH-server', () => {
  const ctx = run(TO_SERVER, TO_CLIENT, [], [], false);
  assert.equal(ctx.txs.length, 1, 'tx emitted at NEWKEYS of both sides, before flow end');
  assert.deepEqual(ctx.txs[0].eve(), EXPECTED);
  assert.equal(ctx.txs[0].proto, 'ssh');
  assert.deepEqual(ctx.events, []);
});

test('EVE ssh validates against the Suricata 7.0.4 schema', { skip: skipWithoutShared('eve-schema/suricata-7.0.4.schema.json') }, () => {
  assert.deepEqual(eveSchemaErrors({ timestamp: '2024-01-01T00:00:00.000000+0000', event_type: 'ssh', ssh: EXPECTED }), []);
});

test('split at every byte, in both directions, gives the same result', () => {
  for (let i = 1; i < TO_SERVER.length; i++) assert.deepEqual(run(TO_SERVER, TO_CLIENT, [i]).txs[0].eve(), EXPECTED, `toServer at ${i}`);
  for (let i = 1; i < TO_CLIENT.length; i++) assert.deepEqual(run(TO_SERVER, TO_CLIENT, [], [i]).txs[0].eve(), EXPECTED, `toClient at ${i}`);
  const all = (n: number) => Array.from({ length: n - 1 }, (_, i) => i + 1);
  assert.deepEqual(run(TO_SERVER, TO_CLIENT, all(TO_SERVER.length), all(TO_CLIENT.length)).txs[0].eve(), EXPECTED);
});

test('banner-only sessions are flushed at flow end; no SSH at all gives no transaction', () => {
  const ctx = run(Buffer.from('SSH-2.0-PuTTY_Release_0.80\r\n'), Buffer.from('SSH-1.99-Cisco-1.25\n'));
  assert.deepEqual(ctx.txs.map((t) => t.eve()), [
    { client: { proto_version: '2.0', software_version: 'PuTTY_Release_0.80' }, server: { proto_version: '1.99', software_version: 'Cisco-1.25' } },
  ]);
  assert.equal(run(Buffer.alloc(0), Buffer.alloc(0)).txs.length, 0);
});

test('server lines before the banner are allowed (RFC 4253 §4.2); client ones are an event', () => {
  const server = Buffer.concat([Buffer.from('Welcome to host\r\nplease behave\r\n'), TO_CLIENT]);
  const ctx = run(TO_SERVER, server);
  assert.deepEqual(ctx.txs[0].eve(), EXPECTED);
  assert.deepEqual(ctx.events, []);
  const ctx2 = run(Buffer.concat([Buffer.from('hello\r\n'), TO_SERVER]), TO_CLIENT);
  assert.deepEqual(ctx2.events, ['ssh.invalid_banner']);
  assert.deepEqual(ctx2.txs[0].eve(), EXPECTED);
  const ctx3 = run(Buffer.from('x\n'.repeat(40)), TO_CLIENT);
  assert.ok(ctx3.abandoned !== null);
});

test('over-long banner: event, first 255 bytes kept, parsing goes on after the line', () => {
  const long = Buffer.concat([Buffer.from('SSH-2.0-' + 'A'.repeat(400) + ' comment\r\n'), kexinit(C_LISTS), NEWKEYS]);
  const ctx = run(long, TO_CLIENT);
  assert.deepEqual(ctx.events, ['ssh.long_banner']);
  const eve = ctx.txs[0].eve() as { client: { software_version: string; hassh: { hash: string } } };
  assert.equal(eve.client.software_version, 'A'.repeat(255 - 8));
  assert.equal(eve.client.hassh.hash, md5(C_HASSH));
  // Endless line without LF: abandoned, bounded.
  const ctx2 = run(Buffer.alloc(20000, 0x41), TO_CLIENT);
  assert.ok(ctx2.abandoned !== null);
});

test('invalid records and SSH-1 stop parsing of that side; gaps too', () => {
  const bad = Buffer.concat([Buffer.from('SSH-2.0-x\r\n'), Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 20])]);
  const ctx = run(bad, TO_CLIENT);
  assert.deepEqual(ctx.events, ['ssh.invalid_record']);
  assert.deepEqual(ctx.txs[0].eve(), { client: { proto_version: '2.0', software_version: 'x' }, server: EXPECTED.server });
  const v1 = run(Buffer.concat([Buffer.from('SSH-1.5-old\n'), kexinit(C_LISTS)]), TO_CLIENT);
  assert.deepEqual(v1.txs[0].eve(), { client: { proto_version: '1.5', software_version: 'old' }, server: EXPECTED.server });
  // Gap in the middle of the client KEXINIT: no client hassh, server still parsed.
  const ctx3 = new Collect();
  const st = sshParser.create(ctx3);
  sshParser.parse(st, 0, TO_SERVER, 0, 60, 0);
  sshParser.gap?.(st, 0, 500);
  sshParser.parse(st, 1, TO_CLIENT, 0, TO_CLIENT.length, 0);
  assert.equal(ctx3.txs.length, 1);
  assert.deepEqual(ctx3.txs[0].eve(), { client: { proto_version: '2.0', software_version: 'OpenSSH_9.6p1' }, server: EXPECTED.server });
});

test('banner line parsing and probe', () => {
  const p = (s: string) => parseBannerLine(Buffer.from(s, 'latin1'), 0, Buffer.byteLength(s, 'latin1'));
  assert.deepEqual(p('SSH-2.0-OpenSSH_8.9p1 Ubuntu-3\r'), { protoVersion: '2.0', softwareVersion: 'OpenSSH_8.9p1', comments: 'Ubuntu-3' });
  assert.deepEqual(p('SSH-Single-'), { protoVersion: 'Single', softwareVersion: '', comments: '' });
  assert.deepEqual(p('SSH-2.0-\xe9t\xe9'), { protoVersion: '2.0', softwareVersion: '\\xe9t\\xe9', comments: '' });
  assert.equal(p('SSH-2.0'), null);
  assert.equal(p('SSH--x'), null);
  assert.equal(p('HTTP/1.1 200 OK'), null);
  const b = Buffer.from('SSH-2.0-x');
  assert.equal(probeSsh(0, b, 0, b.length), Probe.YES);
  assert.equal(probeSsh(1, b, 0, 3), Probe.NEED_MORE);
  assert.equal(probeSsh(0, Buffer.from('SSL-'), 0, 4), Probe.NO);
  assert.equal(probeSsh(0, Buffer.from('GET / HTTP/1.1'), 0, 14), Probe.NO);
});

test('parse speed (reported): one full handshake', () => {
  const N = 5_000;
  const t = process.cpuUsage();
  for (let i = 0; i < N; i++) run(TO_SERVER, TO_CLIENT, [], [], false);
  const c = process.cpuUsage(t);
  console.log(`# ssh: ${(((c.user + c.system) * 1000) / N / 1000).toFixed(1)} µs CPU per session (2 banners, 2 KEXINIT + 2 HASSH md5, NEWKEYS)`);
});
