/**
 * SSH against Suricata 7's expectations: the suricata-verify ssh tests list
 * banner fields and HASSH / HASSH-server values for their captures; nDPI's
 * ssh captures add more real clients and servers. Payloads are extracted
 * with tshark at test time; every EVE `ssh` object must validate against the
 * Suricata 7.0.4 schema.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { Direction } from '../../src/applayer/parser.js';
import { sshParser } from '../../src/applayer/ssh/index.js';
import { sharedPath, skipWithoutProgram, skipWithoutShared } from '../support/shared.js';
import { eveSchemaErrors } from '../support/eve-schema.js';
import { Collect, type Row, captureRowsMany, getPath } from './dns-support.js';

const SV = 'suricata-verify/tests';
const skip = skipWithoutShared(SV) || skipWithoutShared('eve-schema/suricata-7.0.4.schema.json') || skipWithoutProgram('tshark');

/** Run the SSH parser over every TCP flow whose first payload probes as SSH, or on port 22. */
function sshRecords(rows: readonly Row[]): { eve: Record<string, unknown>; events: string[] }[] {
  const flows = new Map<string, { client: string; cport: number; ctx: Collect; st: ReturnType<typeof sshParser.create> | null }>();
  for (const r of rows) {
    if (r.proto !== 'tcp') continue;
    const a = `${r.src}|${r.sport}`;
    const b = `${r.dst}|${r.dport}`;
    const key = a < b ? a + ' ' + b : b + ' ' + a;
    let f = flows.get(key);
    if (f === undefined) {
      const ctx = new Collect();
      const isSsh = r.sport === 22 || r.dport === 22 || sshParser.probe(0, r.payload, 0, r.payload.length) === 2;
      // The flow's client is the side that did not use port 22 (the capture may start mid-flow).
      const client = r.sport === 22 ? r.dst : r.src;
      const cport = client === r.src ? r.sport : r.dport;
      f = { client, cport, ctx, st: isSsh ? sshParser.create(ctx) : null };
      flows.set(key, f);
    }
    if (f.st === null) continue;
    const dir: Direction = r.src === f.client && r.sport === f.cport ? 0 : 1;
    sshParser.parse(f.st, dir, r.payload, 0, r.payload.length, r.ts);
  }
  const out: { eve: Record<string, unknown>; events: string[] }[] = [];
  for (const f of flows.values()) {
    if (f.st === null) continue;
    sshParser.end?.(f.st);
    for (const t of f.ctx.txs) out.push({ eve: t.eve(), events: f.ctx.events });
  }
  return out;
}

interface Check {
  filter: { count?: number; requires?: Record<string, unknown>; match: Record<string, unknown> };
}

test('suricata-verify ssh expectations and schema validity', { skip }, () => {
  const root = sharedPath(SV) as string;
  const jobs: { dir: string; pcap: string; checks: Check[] }[] = [];
  for (const d of readdirSync(root).filter((n) => n.startsWith('ssh-') || n === 'bypass-ssh-enabled')) {
    const dir = join(root, d);
    if (!existsSync(join(dir, 'test.yaml'))) continue;
    const spec = parseYaml(readFileSync(join(dir, 'test.yaml'), 'utf8')) as { pcap?: string; checks?: Check[]; requires?: Record<string, unknown> };
    const minV = spec.requires?.['min-version'];
    if (minV !== undefined && Number(String(minV).split('.')[0]) >= 8) continue;
    const pcap = spec.pcap !== undefined ? resolve(dir, spec.pcap) : join(dir, 'input.pcap');
    if (!existsSync(pcap)) continue;
    const checks = (spec.checks ?? []).filter(
      (c) => c.filter.match?.event_type === 'ssh' && c.filter.count !== undefined && c.filter.requires === undefined,
    );
    jobs.push({ dir: d, pcap, checks });
  }
  const extra: string[] = [];
  const ndpi = sharedPath('pcaps/ndpi/tests/cfgs/default/pcap');
  if (ndpi !== null) for (const f of readdirSync(ndpi)) if (/ssh/i.test(f)) extra.push(join(ndpi, f));
  const pcaps = [...new Set([...jobs.map((j) => j.pcap), ...extra])];
  const rows = captureRowsMany(pcaps);
  const byPcap = new Map(pcaps.map((p, i) => [p, sshRecords(rows[i])]));

  const failures: string[] = [];
  let checked = 0;
  for (const j of jobs) {
    const recs = (byPcap.get(j.pcap) ?? []).map((r) => ({ event_type: 'ssh', ssh: r.eve }));
    for (const c of j.checks) {
      const keys = Object.entries(c.filter.match).filter(([k]) => k.startsWith('ssh.'));
      const n = recs.filter((r) => keys.every(([k, v]) => getPath(r, k) === v)).length;
      checked++;
      if (n !== c.filter.count) failures.push(`${j.dir}: ${JSON.stringify(Object.fromEntries(keys))} → ${n}, want ${c.filter.count}; got ${JSON.stringify(recs.map((r) => r.ssh))}`);
    }
  }
  let n = 0;
  for (const recs of byPcap.values()) {
    for (const r of recs) {
      n++;
      const errs = eveSchemaErrors({ timestamp: '2024-01-01T00:00:00.000000+0000', event_type: 'ssh', ssh: r.eve });
      if (errs.length > 0) failures.push(`schema: ${errs.join('; ')} in ${JSON.stringify(r.eve)}`);
    }
  }
  console.log(`# ${checked} suricata-verify ssh checks, ${n} ssh records from ${pcaps.length} captures`);
  assert.ok(checked >= 5, `only ${checked} checks`);
  assert.deepEqual(failures, []);

  // The hassh strings of the ssh-hassh capture are the ones its rules match on.
  const hasshRun = byPcap.get(join(root, 'ssh-hassh', 'input.pcap'));
  if (hasshRun !== undefined) {
    const ev = hasshRun[0].eve as { client: { hassh: { string: string } }; server: { hassh: { string: string } } };
    assert.ok(ev.client.hassh.string.includes('umac-64-etm@openssh.com,umac-128-etm@openssh.com,hmac-sha2-256-etm@openssh.com'));
    assert.ok(ev.server.hassh.string.endsWith(';none,zlib@openssh.com'));
  }
});
