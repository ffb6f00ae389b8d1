// Real captures of in-protocol TLS upgrades (nDPI's test pcaps): SMTP
// STARTTLS (two sessions, one over IPv6 in a VLAN), IMAP STARTTLS, POP3
// STLS, FTP AUTH TLS and MySQL's SSLRequest, run through the whole
// pipeline. After the upgrade Harrier parses the TLS handshake: every
// ClientHello tshark dissects on these captures has a `tls` record with
// the SNI and JA3 tshark prints, on the same client port, and the flow
// record says app_proto `tls` with app_proto_orig the protocol the
// connection started as. The MySQL capture's second session, which logs in
// without TLS, stays `mysql`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eveOfCapture } from '../support/analyze.js';
import { EVE_SCHEMA, eveSchemaErrors } from '../support/eve-schema.js';
import { sharedPath, skipWithoutProgram, skipWithoutShared } from '../support/shared.js';
import { run } from '../support/tshark.js';

type Rec = Record<string, unknown>;

const ND = 'pcaps/ndpi/tests/cfgs/default/pcap';
/** Capture → the protocol its upgraded sessions start as. */
const CAPTURES: readonly [string, string][] = [
  ['smtp-starttls.pcap', 'smtp'],
  ['imap-starttls.pcap', 'imap'],
  ['pop3_stls.pcap', 'pop3'],
  ['ftp-start-tls.pcap', 'ftp'],
  ['mysql.pcapng', 'mysql'],
];

const skip = skipWithoutShared(EVE_SCHEMA) || skipWithoutShared(`${ND}/smtp-starttls.pcap`) || skipWithoutShared(`${ND}/imap-starttls.pcap`) || skipWithoutProgram('tshark');

interface Hello {
  clientPort: number;
  sni: string;
  ja3: string;
}

/** tshark's ClientHellos: client port, SNI (empty when absent), JA3. */
function tsharkHellos(file: string): Hello[] {
  const r = run('tshark', ['-r', file, '-n', '-Y', 'tls.handshake.type == 1', '-T', 'fields', '-e', 'tcp.srcport', '-e', 'tls.handshake.extensions_server_name', '-e', 'tls.handshake.ja3']);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [port, sni, ja3] = l.split('\t');
      return { clientPort: Number(port), sni: sni ?? '', ja3: ja3 ?? '' };
    });
}

test('TLS after STARTTLS / STLS / AUTH TLS / MySQL SSLRequest: SNI and JA3 equal tshark\'s, flow app_proto tls with app_proto_orig', { skip, timeout: 60_000 }, () => {
  let hellos = 0;
  for (const [name, orig] of CAPTURES) {
    const file = sharedPath(`${ND}/${name}`);
    if (file === null) continue;
    const eve = eveOfCapture(file);
    const want = tsharkHellos(file);
    assert.ok(want.length > 0, `${name}: tshark sees a ClientHello`);
    for (const h of want) {
      hellos++;
      const tls = eve.filter((r) => r.event_type === 'tls' && r.src_port === h.clientPort);
      assert.equal(tls.length, 1, `${name} client port ${h.clientPort}: one tls record`);
      const body = tls[0]!.tls as Rec;
      assert.equal(body.sni ?? '', h.sni, `${name} ${h.clientPort}: sni`);
      assert.equal((body.ja3 as Rec | undefined)?.hash, h.ja3, `${name} ${h.clientPort}: ja3`);
      assert.equal(tls[0]!.app_proto, 'tls');
      assert.deepEqual(eveSchemaErrors(tls[0]!), [], `${name}: tls record schema`);
      const flow = eve.filter((r) => r.event_type === 'flow' && r.src_port === h.clientPort);
      assert.equal(flow.length, 1, `${name} ${h.clientPort}: one flow record`);
      assert.equal(flow[0]!.app_proto, 'tls', `${name} ${h.clientPort}: flow app_proto`);
      assert.equal(flow[0]!.app_proto_orig, orig, `${name} ${h.clientPort}: flow app_proto_orig`);
      assert.deepEqual(eveSchemaErrors(flow[0]!), [], `${name}: flow record schema`);
    }
    if (name === 'smtp-starttls.pcap') assert.equal(want.length, 2, 'both SMTP sessions upgrade');
    if (name === 'mysql.pcapng') {
      // the session that logs in without TLS stays mysql
      const plain = eve.filter((r) => r.event_type === 'flow' && r.app_proto === 'mysql');
      assert.equal(plain.length, 1);
      assert.equal(plain[0]!.app_proto_orig, undefined);
    }
  }
  assert.ok(hellos >= 6, `ClientHellos compared: ${hellos}`);
});

test('tls.* rule buffers see the handshake after STARTTLS: tls.sni and ja3.hash rules alert on the upgraded SMTP and IMAP sessions', { skip, timeout: 30_000 }, () => {
  const smtp = eveOfCapture(sharedPath(`${ND}/smtp-starttls.pcap`)!, [
    'alert tls any any -> any any (msg:"sni after starttls"; tls.sni; content:"dovecot.weberlab.de"; sid:1;)',
    'alert tls any any -> any any (msg:"ja3 after starttls"; ja3.hash; content:"fab507fe132c544e8a0eb7c394affeae"; sid:2;)',
  ]);
  const sids = (out: Rec[]): number[] => out.filter((r) => r.event_type === 'alert').map((r) => (r.alert as Rec).signature_id as number).sort();
  assert.deepEqual(sids(smtp), [1, 2]);
  const alert = smtp.find((r) => r.event_type === 'alert' && (r.alert as Rec).signature_id === 1)!;
  assert.equal(alert.app_proto, 'tls');
  assert.equal(alert.dest_port, 25);
  const imap = eveOfCapture(sharedPath(`${ND}/imap-starttls.pcap`)!, ['alert tls any any -> any any (msg:"ja3"; ja3.hash; content:"c369db2c355ad05c76f5660af3179b01"; sid:4;)']);
  assert.deepEqual(sids(imap), [4]);
});
