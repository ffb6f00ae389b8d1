// `app_proto_orig`, `app_proto_ts` and `app_proto_tc` on EVE flow (and alert)
// records, as Suricata's EveAddAppProto writes them: the protocol before a
// mid-flow change (HTTP CONNECT / upgrade, PostgreSQL SSLRequest) and the
// protocol a direction was recognised as when it disagrees with the flow's.
// The field rules on a bare Flow, then real captures end to end: the
// suricata-verify tests that check these fields, against their test.yaml.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { addAppProto, flowRecord } from '../../src/events/flow-event.js';
import { Flow } from '../../src/flow/flow.js';
import { eveOfCapture } from '../support/analyze.js';
import { sharedPath, skipWithoutShared } from '../support/shared.js';

type Rec = Record<string, unknown>;

function flowWith(appProto: string | null, orig: string | null, ts: string | null, tc: string | null): Flow {
  const f = new Flow(4);
  f.proto = 6;
  f.appProto = appProto;
  f.appProtoOrig = orig;
  f.appProtoToServer = ts;
  f.appProtoToClient = tc;
  return f;
}

function appFields(f: Flow): Rec {
  const rec: Rec = {};
  addAppProto(rec, f);
  return rec;
}

test('addAppProto: each field only when set and different from app_proto', () => {
  assert.deepEqual(appFields(flowWith(null, null, null, null)), {});
  assert.deepEqual(appFields(flowWith('http', null, null, null)), { app_proto: 'http' });
  assert.deepEqual(appFields(flowWith('tls', 'http', null, null)), { app_proto: 'tls', app_proto_orig: 'http' });
  // a change that ended where it began logs no orig (Suricata: alproto_orig == alproto)
  assert.deepEqual(appFields(flowWith('http', 'http', null, null)), { app_proto: 'http' });
  assert.deepEqual(appFields(flowWith('http', null, null, 'ssh')), { app_proto: 'http', app_proto_tc: 'ssh' });
  assert.deepEqual(appFields(flowWith('dcerpc', null, 'dcerpc', 'http')), { app_proto: 'dcerpc', app_proto_tc: 'http' });
  assert.deepEqual(appFields(flowWith('tls', null, 'smtp', null)), { app_proto: 'tls', app_proto_ts: 'smtp' });
  const rec = flowRecord(flowWith('tls', 'pgsql', null, null));
  assert.equal(rec.app_proto, 'tls');
  assert.equal(rec.app_proto_orig, 'pgsql');
});

/** The flow checks of a suricata-verify test that name one of the app_proto fields. */
function appProtoChecks(dir: string): Rec[] {
  const checks = (parseYaml(readFileSync(join(dir, 'test.yaml'), 'utf8')) as { checks: Array<{ filter?: { requires?: unknown; match?: Rec } }> }).checks;
  return checks
    .filter((c) => c.filter?.requires === undefined)
    .map((c) => c.filter?.match)
    .filter((m): m is Rec => m !== undefined && m.event_type === 'flow' && Object.keys(m).some((k) => /^app_proto_(orig|ts|tc)$/.test(k)));
}

function runCapture(dir: string, rules: string[] = []): Rec[] {
  // a test may name another test's capture (`pcap:` in test.yaml)
  const doc = parseYaml(readFileSync(join(dir, 'test.yaml'), 'utf8')) as { pcap?: string };
  return eveOfCapture(join(dir, doc.pcap ?? 'input.pcap'), rules);
}

/** Fields Harrier does not produce (IPS drop): left out of the comparison, named. */
const NOT_COMPARED = new Set(['flow.action']);

// pgsql-upgrade-tls: PostgreSQL SSLRequest → TLS; drop-protocol-change: HTTP/1.1 upgrade → HTTP/2;
// proto-mismatch-http-ssh: the server answers an HTTP request with an SSH banner.
for (const name of ['pgsql/pgsql-upgrade-tls', 'drop-protocol-change', 'proto-mismatch-http-ssh']) {
  const rel = `suricata-verify/tests/${name}`;
  test(`flow record: suricata-verify ${name}`, { skip: skipWithoutShared(rel) }, () => {
    const dir = sharedPath(rel) as string;
    const wants = appProtoChecks(dir);
    assert.ok(wants.length > 0, 'the test checks an app_proto_* field');
    const out = runCapture(dir);
    for (const want of wants) {
      const hits = out.filter(
        (r) =>
          r.event_type === 'flow' &&
          Object.entries(want).every(([k, v]) => NOT_COMPARED.has(k) || k.split('.').reduce<unknown>((o, part) => (o as Rec | undefined)?.[part], r) === v),
      );
      assert.equal(hits.length, 1, `${name}: ${JSON.stringify(want)}`);
    }
  });
}

test('alert record: carries app_proto_orig like the flow record', { skip: skipWithoutShared('suricata-verify/tests/pgsql/pgsql-upgrade-tls') }, () => {
  const dir = sharedPath('suricata-verify/tests/pgsql/pgsql-upgrade-tls') as string;
  const out = runCapture(dir, ['alert tls any any -> any any (msg:"tls after pgsql"; sid:1;)']);
  const alerts = out.filter((r) => r.event_type === 'alert');
  assert.ok(alerts.length > 0);
  for (const a of alerts) {
    assert.equal(a.app_proto, 'tls');
    assert.equal(a.app_proto_orig, 'pgsql');
  }
});
