/**
 * TLS parser against tshark on real captures: tshark reassembles each TCP
 * stream and reports its own JA3, JA3S, SNI and certificate bytes; ours
 * must agree stream by stream. (tshark 4.0 has no JA4; JA4 is checked
 * against nDPI and Suricata expectations in the other tls-* tests.)
 * A handful of captures only: tshark costs ~1 s each on the CI machine.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Probe } from '../../src/applayer/parser.js';
import { createTlsParser, probeTls, type TlsTx } from '../../src/applayer/tls/index.js';
import { readTcpStreams, runStream } from './tls-support.js';
import { sharedPath, skipWithoutProgram, skipWithoutShared } from '../support/shared.js';

const SV = 'suricata-verify/tests';
const ND = 'pcaps/ndpi/tests/cfgs/default/pcap';
const CAPTURES = [
  `${SV}/tls/tls-cert-issuer/tls.pcap`, // five TLS 1.2 flows, one resumed
  `${SV}/sslv2-tls-upgrade-01/ssl-v2-s1.pcap`, // SSLv2 ClientHello, TLS server
  `${SV}/tls/tls-client-hello-frag-01/dump_mtu300.pcap`, // ClientHello over several segments
  `${SV}/tls/tls-store-02/tls-client-auth.pcap`, // client certificate
  `${ND}/tls_ech.pcapng`,
  `${ND}/tls_2_reasms.pcapng`, // handshake messages reassembled across records
  `${ND}/long_tls_certificate.pcap`,
  `${ND}/ja3_lots_of_cipher_suites.pcap`,
  `${ND}/tls_alert.pcap`,
];

const skip = skipWithoutShared(SV) || skipWithoutShared(ND) || skipWithoutProgram('tshark');
const decl = createTlsParser();

/** TLS 1.3 drafts < 22 changed the ServerHello layout; tshark 4.0 decodes them as TLS 1.2 hellos. */
function tsharkReadsServerHello(v: number): boolean {
  return !((v >= 0x7f01 && v < 0x7f16) || v === 0xfb14 || v === 0xfb15);
}

test('JA3, JA3S, SNI and certificate agree with tshark', { skip, timeout: 120_000 }, async (t) => {
  const present = CAPTURES.map((c) => sharedPath(c)).filter((p): p is string => p !== null);
  assert.ok(present.length >= 7, 'captures present');
  // Two tshark processes at a time (2 cores).
  const results = new Map<string, Awaited<ReturnType<typeof readTcpStreams>>>();
  let next = 0;
  await Promise.all([0, 1].map(async () => {
    while (next < present.length) {
      const p = present[next++]!;
      results.set(p, await readTcpStreams(p));
    }
  }));
  const counts = { ja3: 0, ja3s: 0, sni: 0, cert: 0 };
  for (const p of present) {
    for (const s of results.get(p)!.values()) {
      const first = s.chunks.find((c) => c.data !== null);
      if (!first?.data || probeTls(first.dir, first.data, 0, first.data.length) !== Probe.YES) continue;
      const ctx = runStream(decl, s.chunks);
      const tx = ctx.txs[0] as TlsTx | undefined;
      const where = `${p.split('/').slice(-2).join('/')} stream ${s.id}`;
      if (s.ja3.length > 0) {
        counts.ja3++;
        assert.equal(tx?.ja3Hash, s.ja3[0], `${where} ja3 (tshark ${s.ja3Full[0]}, ours ${tx?.data.ja3})`);
      }
      if (s.ja3s.length > 0 && tx !== undefined && tsharkReadsServerHello(tx.data.version)) {
        counts.ja3s++;
        // After a HelloRetryRequest the last ServerHello is the one that counts.
        assert.equal(tx.ja3sHash, s.ja3s[s.ja3s.length - 1], `${where} ja3s (tshark ${s.ja3sFull.at(-1)}, ours ${tx.data.ja3s})`);
      }
      if (s.sni.length > 0) {
        counts.sni++;
        assert.equal(tx?.data.sni, s.sni[0], `${where} sni`);
      }
      const clientDir = first.dir;
      const srv = s.certs.find((c) => c.dir !== clientDir);
      if (srv !== undefined) {
        counts.cert++;
        const fp = createHash('sha1').update(Buffer.from(srv.hex, 'hex')).digest('hex').match(/../g)!.join(':');
        assert.equal(tx?.data.serverCert?.fingerprint, fp, `${where} server certificate`);
      }
      const cli = s.certs.find((c) => c.dir === clientDir);
      if (cli !== undefined) {
        const fp = createHash('sha1').update(Buffer.from(cli.hex, 'hex')).digest('hex').match(/../g)!.join(':');
        assert.equal(tx?.data.clientCert?.fingerprint, fp, `${where} client certificate`);
      }
    }
  }
  t.diagnostic(`compared: ${JSON.stringify(counts)}`);
  assert.ok(counts.ja3 >= 12 && counts.ja3s >= 10 && counts.sni >= 6 && counts.cert >= 8, JSON.stringify(counts));
});
