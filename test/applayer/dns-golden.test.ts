/**
 * Golden tests against Suricata 7's own expectations: the suricata-verify
 * tests under tests/dns/v2 (and dns-eve-v2-udp-nxdomain-soa) list, per EVE
 * `dns` record, field values Suricata 7 writes in the version-2 format. We run
 * the DNS parser over the same captures (payloads extracted with tshark at
 * test time) and require the same number of records matching each check.
 * Every record we produce from real captures must validate against the
 * Suricata 7.0.4 EVE schema.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { sharedPath, skipWithoutProgram, skipWithoutShared } from '../support/shared.js';
import { eveSchemaErrors } from '../support/eve-schema.js';
import { DnsAnswerTable } from '../../src/applayer/dns/answers.js';
import { dnsTcpParser } from '../../src/applayer/dns/index.js';
import { type CapturedDns, Collect, captureRowsMany, getPath, runDnsOverCapture } from './dns-support.js';

const SV = 'suricata-verify/tests';
const skip = skipWithoutShared(SV) || skipWithoutShared('eve-schema/suricata-7.0.4.schema.json') || skipWithoutProgram('tshark');

interface Check {
  filter: { count?: number; requires?: Record<string, unknown>; match: Record<string, unknown> };
}

function testDirs(): string[] {
  const root = sharedPath(SV);
  if (root === null) return [];
  const v2 = join(root, 'dns', 'v2');
  const dirs = readdirSync(v2).map((d) => join(v2, d));
  dirs.push(join(root, 'dns-eve-v2-udp-nxdomain-soa'));
  // The *-only tests exercise Suricata's per-type logging filters (suricata.yaml), not the format.
  return dirs.filter((d) => existsSync(join(d, 'test.yaml')) && !d.endsWith('-only'));
}

/** All captures used here, run once (one tshark process for all of them). */
let cache: Map<string, CapturedDns> | null = null;
function runs(): Map<string, CapturedDns> {
  if (cache !== null) return cache;
  const pcaps = new Set<string>();
  for (const dir of testDirs()) {
    const p = pcapOf(dir, parseYaml(readFileSync(join(dir, 'test.yaml'), 'utf8')) as { pcap?: string });
    if (p !== null) pcaps.add(p);
  }
  for (const rel of ['pcaps/chrissanders', 'pcaps/dns-tunnels']) {
    const d = sharedPath(rel);
    if (d === null) continue;
    for (const f of readdirSync(d)) if (/dns|iodine|sods/.test(f) && /\.pcap(ng)?$/.test(f)) pcaps.add(join(d, f));
  }
  const list = [...pcaps];
  const rows = captureRowsMany(list);
  cache = new Map(list.map((p, i) => [p, runDnsOverCapture(p, rows[i])]));
  return cache;
}

function pcapOf(dir: string, spec: { pcap?: string }): string | null {
  if (spec.pcap !== undefined) {
    const p = resolve(dir, spec.pcap);
    return existsSync(p) ? p : null;
  }
  const f = readdirSync(dir).find((n) => n.endsWith('.pcap'));
  return f === undefined ? null : join(dir, f);
}

/** Checks that speak only about dns records and the event type, for Suricata < 8. */
function dnsChecks(spec: { checks?: Check[]; requires?: Record<string, unknown> }): Check[] {
  const top = spec.requires?.['min-version'];
  if (top !== undefined && Number(String(top).split('.')[0]) >= 8) return [];
  return (spec.checks ?? []).filter((c) => {
    const req = c.filter.requires;
    if (req?.['min-version'] !== undefined && Number(String(req['min-version']).split('.')[0]) >= 8) return false;
    const keys = Object.keys(c.filter.match ?? {});
    if (c.filter.count === undefined) return false;
    if (c.filter.match?.event_type !== undefined && c.filter.match.event_type !== 'dns') return false;
    return keys.some((k) => k.startsWith('dns.')) && keys.every((k) => k.startsWith('dns.') || k === 'event_type' || /^(src|dest)_(ip|port)$|^(proto|pcap_cnt)$/.test(k));
  });
}

test('suricata-verify dns v2 expectations (Suricata 7 format)', { skip }, () => {
  let checked = 0;
  let dirsRun = 0;
  const failures: string[] = [];
  for (const dir of testDirs()) {
    const spec = parseYaml(readFileSync(join(dir, 'test.yaml'), 'utf8')) as { pcap?: string; checks?: Check[]; requires?: Record<string, unknown> };
    const checks = dnsChecks(spec);
    if (checks.length === 0) continue;
    const pcap = pcapOf(dir, spec);
    if (pcap === null) continue;
    dirsRun++;
    const run = runs().get(pcap) as CapturedDns;
    const records = run.txs.flatMap(({ tx }) => tx.eveRecords().map((dns) => ({ event_type: 'dns', dns, frame: run.txs.length })));
    for (const c of checks) {
      const dnsKeys = Object.entries(c.filter.match).filter(([k]) => k.startsWith('dns.'));
      const n = records.filter((r) => dnsKeys.every(([k, v]) => getPath(r, k) === v)).length;
      checked++;
      if (n !== c.filter.count) failures.push(`${dir.split('/tests/')[1]}: ${JSON.stringify(Object.fromEntries(dnsKeys)).slice(0, 300)} → ${n}, want ${c.filter.count}`);
    }
  }
  console.log(`# suricata-verify: ${checked} dns checks over ${dirsRun} captures`);
  assert.ok(dirsRun >= 8, `only ${dirsRun} suricata-verify captures found`);
  assert.deepEqual(failures, []);
});

test('every record from real DNS captures validates against the Suricata 7.0.4 schema', { skip }, () => {
  let n = 0;
  const bad: string[] = [];
  const all = runs();
  for (const [p, run] of all) {
    for (const { tx } of run.txs) {
      for (const dns of tx.eveRecords()) {
        n++;
        const errs = eveSchemaErrors({ timestamp: '2024-01-01T00:00:00.000000+0000', event_type: 'dns', dns });
        if (errs.length > 0 && bad.length < 10) bad.push(`${dirname(p).split('/').pop()}/${p.split('/').pop()}: ${errs.join('; ')} in ${JSON.stringify(dns).slice(0, 200)}`);
      }
    }
  }
  console.log(`# ${n} dns records from ${all.size} captures validated`);
  assert.ok(n > 1000, `only ${n} records`);
  assert.deepEqual(bad, []);
});

test('answer table from a real capture: the client resolved www.suricata-ids.org via a CNAME', { skip }, () => {
  const root = sharedPath(SV) as string;
  const run = runs().get(join(root, 'cond-log-dns-dig', 'input.pcap'));
  assert.ok(run !== undefined, 'cond-log-dns-dig capture');
  const table = new DnsAnswerTable();
  let last = 0;
  for (const { tx, client } of run.txs) {
    if (tx.isResponse) table.addResponse(client, tx.message, tx.tsSec);
    last = tx.tsSec;
  }
  // Facts from the suricata-verify expectations of this capture (dns-udp-eve-dig).
  for (const ip of ['192.0.78.24', '192.0.78.25']) {
    const r = table.lookup('10.16.1.11', ip, last + 1);
    assert.equal(r?.name, 'www.suricata-ids.org');
    assert.deepEqual(r?.cnames, ['suricata-ids.org']);
    assert.ok(Math.abs((r?.expiresAt ?? 0) - (last + 244)) < 1);
  }
  assert.equal(table.lookup('10.16.1.1', '192.0.78.24', last), undefined);
});

test('real DNS-over-TCP streams split at every byte give the same records', { skip }, () => {
  const rows = captureRowsMany([join(sharedPath('pcaps/chrissanders') ?? '', 'dns_tcp.pcapng')])[0].filter((r) => r.proto === 'tcp');
  assert.ok(rows.length > 0);
  const client = rows[0].src;
  const streams: [Buffer, Buffer] = [
    Buffer.concat(rows.filter((r) => r.src === client).map((r) => r.payload)),
    Buffer.concat(rows.filter((r) => r.src !== client).map((r) => r.payload)),
  ];
  const records = (cutDir: number, cut: number): string[] => {
    const ctx = new Collect();
    const st = dnsTcpParser.create(ctx);
    for (const dir of [0, 1] as const) {
      const s = streams[dir];
      const at = dir === cutDir ? cut : s.length;
      dnsTcpParser.parse(st, dir, s, 0, at, 0);
      dnsTcpParser.parse(st, dir, s, at, s.length - at, 0);
    }
    assert.deepEqual(ctx.events, []);
    return ctx.txs.map((t) => JSON.stringify(t.eve()));
  };
  const whole = records(-1, 0);
  assert.ok(whole.length >= 2, `${whole.length} records`);
  for (const dir of [0, 1]) for (let i = 0; i <= streams[dir].length; i++) assert.deepEqual(records(dir, i), whole, `dir ${dir} cut ${i}`);
});
