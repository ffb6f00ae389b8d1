// Unit tests of the transaction comparison (tx-compare.ts) on hand-made tshark rows and EVE records.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { AGG, compareTransactions, nameWhy, newResult, parseTxRow, TX_FIELDS, WHY, type EveRecord, type TxResult } from './tx-compare.js';

/** A tshark row with the named fields set (others empty). */
function row(f: Partial<Record<(typeof TX_FIELDS)[number], string>>): string {
  return TX_FIELDS.map((n) => f[n] ?? '').join('\t');
}

const TCP = { 'frame.protocols': 'eth:ethertype:ip:tcp:http', 'ip.src': '10.0.0.1', 'ip.dst': '10.0.0.2', 'tcp.srcport': '40000', 'tcp.dstport': '80' };
const TCP_BACK = { 'frame.protocols': 'eth:ethertype:ip:tcp:http', 'ip.src': '10.0.0.2', 'ip.dst': '10.0.0.1', 'tcp.srcport': '80', 'tcp.dstport': '40000' };

function http(tx: number, h: Record<string, unknown>, flow = 1, sport = 40000, dport = 80): EveRecord {
  return { event_type: 'http', flow_id: flow, timestamp: '2020-01-01T00:00:00.000000+0000', proto: 'TCP', src_ip: '10.0.0.1', src_port: sport, dest_ip: '10.0.0.2', dest_port: dport, tx_id: tx, http: h };
}

function summary(res: TxResult): Record<string, string> {
  const o: Record<string, string> = {};
  for (const [k, t] of res.fields) o[k] = `${t.equal}/${t.compared} ${[...t.explained].map(([w, n]) => `${n}:${w}`).join(',')}`;
  return o;
}

test('parseTxRow: innermost 5-tuple, pipelined requests, IPv6 canonical form, DNS and TLS fields', () => {
  const f = parseTxRow(
    row({
      ...TCP,
      'http.request': `1${AGG}1`,
      'http.host': `a.example${AGG}b.example:8080`,
      'http.request.uri': `/x?a=1,2${AGG}/y`,
      'http.user_agent': `curl/8, like${AGG}wget`,
    }),
    4,
  );
  assert.equal(f.key, '6 10.0.0.1:40000 10.0.0.2:80');
  assert.deepEqual(f.httpReqs, [
    { host: 'a.example', uri: '/x?a=1,2', ua: 'curl/8, like', frame: 4, version: '' },
    { host: 'b.example:8080', uri: '/y', ua: 'wget', frame: 4, version: '' },
  ]);
  const d = parseTxRow(
    row({ 'frame.protocols': 'eth:ethertype:ip:udp:dns', 'ip.src': '10.0.0.53', 'ip.dst': '10.0.0.1', 'udp.srcport': '53', 'udp.dstport': '5000', 'dns.flags.response': '1', 'dns.id': '0x1a2b', 'dns.qry.name': 'x.example', 'dns.aaaa': '2001:db8::1', 'dns.count.add_rr': '1', 'dns.qry.class': '0x0001' }),
    0,
  );
  assert.deepEqual(d.dns, { response: true, id: 0x1a2b, qname: 'x.example', qnames: ['x.example'], a: [], aaaa: ['2001:0db8:0000:0000:0000:0000:0000:0001'], extra: true, classes: [1] });
  // 6in4: the IPv6 layer is the innermost.
  const t = parseTxRow(row({ 'frame.protocols': 'eth:ethertype:ip:ipv6:tcp:tls', 'ip.src': '1.1.1.1', 'ip.dst': '2.2.2.2', 'ipv6.src': '::1', 'ipv6.dst': '::2', 'tcp.srcport': '1', 'tcp.dstport': '443', 'tls.handshake.type': '1', 'tls.handshake.extensions_server_name': 's.example', 'tls.handshake.ja3': 'abc' }), 0);
  assert.match(t.key, /^6 \[0000:.*:0001\]:1 \[0000:.*:0002\]:443$/);
  assert.equal(t.clientHello, true);
  assert.equal(t.sni, 's.example');
  assert.equal(t.ja3, 'abc');
  assert.equal(parseTxRow(row({ 'frame.protocols': 'eth:ethertype:arp' }), 0).key, '');
  // The packet quoted inside an ICMP error is dissected by tshark but is no transaction.
  assert.equal(parseTxRow(row({ 'frame.protocols': 'eth:ethertype:ip:icmp:ip:tcp:http', 'ip.src': `9.9.9.9${AGG}10.0.0.1`, 'ip.dst': `10.0.0.1${AGG}10.0.0.2`, 'tcp.srcport': '40000', 'tcp.dstport': '80', 'http.request': '1' }), 0).key, '');
});

test('http: fields compared per request in order, host port ignored, 100 Continue folded, a different uri is unexplained', () => {
  const frames = [
    parseTxRow(row({ ...TCP, 'http.request': '1', 'http.host': 'h.example:80', 'http.request.uri': '/a', 'http.user_agent': 'ua' }), 0),
    parseTxRow(row({ ...TCP_BACK, 'http.response': '1', 'http.response.code': '100' }), 1),
    parseTxRow(row({ ...TCP_BACK, 'http.response': '1', 'http.response.code': '200' }), 1),
    parseTxRow(row({ ...TCP, 'http.request': '1', 'http.host': 'h.example', 'http.request.uri': '/b', 'http.user_agent': 'ua' }), 2),
  ];
  const res = newResult();
  compareTransactions({ name: 'c', refused: false }, frames, [http(0, { hostname: 'h.example', url: '/a', http_user_agent: 'ua', status: 200 }), http(1, { hostname: 'h.example', url: '/B', http_user_agent: 'ua' })], res);
  assert.deepEqual(summary(res), {
    'http.request': '2/2 ',
    'http.host': '2/2 ',
    'http.request.uri': '1/2 ',
    'http.user_agent': '2/2 ',
    'http.response.code': `1/2 1:${WHY.interim}`,
  });
  assert.equal(res.unexplained.length, 1);
  assert.match(res.unexplained[0], /http\.request\.uri: c 6 10\.0\.0\.1:40000 10\.0\.0\.2:80 #1: tshark "\/b", harrier "\/B"/);
});

test('nameWhy: control bytes, tshark octal escapes vs the byte in eve', () => {
  assert.equal(nameWhy('www.a\u0004\u0005\u0006b.cn', 'www.a\\004\\005\\006b.cn'), WHY.dnsControl);
  assert.equal(nameWhy('1.\u0012.0.127.in-addr.arpa', '1.\\022.0.127.in-addr.arpa'), WHY.dnsControl);
  assert.equal(nameWhy('1.\u0016.0.127.in-addr.arpa', '1.\\022.0.127.in-addr.arpa'), null, 'octal, not decimal');
});

test('nameWhy: case, root, escaped bytes', () => {
  assert.equal(nameWhy('A.example', 'a.EXAMPLE'), '');
  assert.equal(nameWhy('', '<Root>'), WHY.dnsRoot);
  assert.equal(nameWhy('J\\xe4ger.x', 'J\ufffdger.x'), WHY.dnsEscape);
  assert.equal(nameWhy('J\\xe4ger.x', 'Jäger.y'), null);
  assert.equal(nameWhy('a.x', 'b.x'), null);
});

test('http on a port tshark does not dissect is explained; on port 80 it is not', () => {
  const res = newResult();
  compareTransactions({ name: 'c', refused: false }, [], [http(0, { hostname: 'h', url: '/', status: 200 }, 1, 40000, 9999)], res);
  assert.deepEqual(res.unexplained, []);
  assert.equal(res.fields.get('http.request')?.explained.get(WHY.httpPort), 1);
  const res80 = newResult();
  compareTransactions({ name: 'c', refused: false }, [], [http(0, { hostname: 'h', url: '/', http_method: 'GET' })], res80);
  assert.equal(res80.unexplained.length, 1);
});

test('dns: matched by id and name; extra addresses from other sections explained only with evidence', () => {
  const q = { 'frame.protocols': 'eth:ethertype:ip:udp:dns', 'ip.src': '10.0.0.1', 'ip.dst': '10.0.0.53', 'udp.srcport': '5000', 'udp.dstport': '53' };
  const a = { 'frame.protocols': 'eth:ethertype:ip:udp:dns', 'ip.src': '10.0.0.53', 'ip.dst': '10.0.0.1', 'udp.srcport': '53', 'udp.dstport': '5000' };
  const base = { proto: 'UDP', src_ip: '10.0.0.1', src_port: 5000, dest_ip: '10.0.0.53', dest_port: 53, flow_id: 7 };
  const eve: EveRecord[] = [
    { ...base, event_type: 'dns', dns: { type: 'query', id: 5, rrname: 'x.example' } },
    { ...base, event_type: 'dns', dns: { type: 'answer', id: 5, rrname: 'x.example', grouped: { A: ['1.2.3.4'] } } },
  ];
  const frames = (extra: string): ReturnType<typeof parseTxRow>[] => [
    parseTxRow(row({ ...q, 'dns.flags.response': '0', 'dns.id': '0x0005', 'dns.qry.name': 'x.example' }), 0),
    parseTxRow(row({ ...a, 'dns.flags.response': '1', 'dns.id': '0x0005', 'dns.qry.name': 'x.example', 'dns.a': `1.2.3.4${AGG}5.6.7.8`, 'dns.count.add_rr': extra }), 1),
  ];
  const r1 = newResult();
  compareTransactions({ name: 'c', refused: false }, frames('1'), eve, r1);
  assert.deepEqual(r1.unexplained, []);
  assert.equal(r1.fields.get('dns.qry.name')?.equal, 2);
  assert.equal(r1.fields.get('dns.a')?.explained.get(WHY.dnsSections), 1);
  const r2 = newResult();
  compareTransactions({ name: 'c', refused: false }, frames('0'), eve, r2);
  assert.equal(r2.unexplained.length, 1, 'no additional records: the extra address is not explained');
  // A Harrier record tshark has no message for is reported.
  // A malformed message Harrier flagged with an anomaly and did not log is explained; without the anomaly it is not.
  const rm = newResult();
  compareTransactions({ name: 'c', refused: false }, frames('1').slice(0, 1), [{ ...base, event_type: 'anomaly', app_proto: 'dns', anomaly: { event: 'dns.malformed_data' } }], rm);
  assert.deepEqual(rm.unexplained, []);
  assert.equal(rm.fields.get('dns.qry.name')?.explained.get(WHY.dnsMalformed), 1);
  const r3 = newResult();
  compareTransactions({ name: 'c', refused: false }, [], eve.slice(0, 1), r3);
  assert.equal(r3.unexplained.length, 1);
});

test('tls: sni, ja3 and the subject CN among the certificate strings', () => {
  const ch = { 'frame.protocols': 'eth:ethertype:ip:tcp:tls', 'ip.src': '10.0.0.1', 'ip.dst': '10.0.0.2', 'tcp.srcport': '40000', 'tcp.dstport': '443' };
  const sh = { 'frame.protocols': 'eth:ethertype:ip:tcp:tls', 'ip.src': '10.0.0.2', 'ip.dst': '10.0.0.1', 'tcp.srcport': '443', 'tcp.dstport': '40000' };
  const frames = [
    parseTxRow(row({ ...ch, 'tls.handshake.type': '1', 'tls.handshake.extensions_server_name': 's.example', 'tls.handshake.ja3': 'aaa' }), 0),
    parseTxRow(row({ ...sh, 'tls.handshake.type': `2${AGG}11`, 'x509sat.printableString': `US${AGG}Some CA`, 'x509sat.uTF8String': 's.example' }), 1),
  ];
  const rec = (tls: Record<string, unknown>): EveRecord[] => [{ event_type: 'tls', flow_id: 1, proto: 'TCP', src_ip: '10.0.0.1', src_port: 40000, dest_ip: '10.0.0.2', dest_port: 443, tls }];
  const ok = newResult();
  compareTransactions({ name: 'c', refused: false }, frames, rec({ sni: 's.example', ja3: { hash: 'aaa' }, subject: 'C=US, CN=s.example' }), ok);
  assert.deepEqual(ok.unexplained, []);
  assert.deepEqual(summary(ok), { 'tls.sni': '1/1 ', 'tls.ja3': '1/1 ', 'x509.subject.cn': '1/1 ' });
  const bad = newResult();
  compareTransactions({ name: 'c', refused: false }, frames, rec({ sni: 's.example', ja3: { hash: 'bbb' }, subject: 'CN=other.example' }), bad);
  assert.equal(bad.unexplained.length, 2);
  const refused = newResult();
  compareTransactions({ name: 'c', refused: true }, frames, [], refused);
  assert.deepEqual(refused.unexplained, []);
});

test('http: responses tshark does not dissect are explained only by a gap or an unfinished pdu from the server', () => {
  const req = parseTxRow(row({ ...TCP, 'http.request': '1', 'http.host': 'h', 'http.request.uri': '/a' }), 0);
  const body = (f: Record<string, string>): ReturnType<typeof parseTxRow> => parseTxRow(row({ ...TCP_BACK, 'frame.protocols': 'eth:ethertype:ip:tcp', ...f }), 1);
  const eve = [http(0, { hostname: 'h', url: '/a', http_method: 'GET', status: 200 })];
  const cmp = (frames: ReturnType<typeof parseTxRow>[]): TxResult => {
    const res = newResult();
    compareTransactions({ name: 'c', refused: false }, frames, eve, res);
    return res;
  };
  // gap flagged on a server frame
  const gap = cmp([req, body({ 'tcp.len': '1448', 'tcp.analysis.lost_segment': '1', 'tcp.reassembled_in': '9' })]);
  assert.equal(summary(gap)['http.response.code'], `0/1 1:${WHY.responseGap}`);
  // server payload tshark neither dissected nor reassembled: waiting for the rest of the pdu
  const pend = cmp([req, body({ 'tcp.len': '1406' })]);
  assert.equal(summary(pend)['http.response.code'], `0/1 1:${WHY.responseUnfinished}`);
  assert.equal(pend.unexplained.length, 0);
  // a gap in the client's stream, or server payload that was reassembled, is no evidence
  assert.equal(cmp([req, parseTxRow(row({ ...TCP, 'frame.protocols': 'eth:ethertype:ip:tcp', 'tcp.len': '10', 'tcp.analysis.lost_segment': '1' }), 2)]).unexplained.length, 1);
  assert.equal(cmp([req, body({ 'tcp.len': '1448', 'tcp.reassembled_in': '9' })]).unexplained.length, 1);
});

test('http: response-only transactions and requests after an unsolicited response', () => {
  const resp = parseTxRow(row({ ...TCP_BACK, 'tcp.srcport': '18888', 'tcp.dstport': '40000', 'http.response': '1', 'http.response.code': '400' }), 0);
  const eve = [http(0, { status: 400 }, 1, 40000, 18888), http(1, { hostname: 'h', url: '/', http_method: 'POST' }, 1, 40000, 18888)];
  const res = newResult();
  compareTransactions({ name: 'c', refused: false }, [resp], eve, res);
  assert.deepEqual(res.unexplained, []);
  assert.equal(summary(res)['http.request'], `0/2 1:${WHY.responseOnly},1:${WHY.afterUnsolicited}`);
  assert.equal(summary(res)['http.response.code'], '1/1 ');
  // a request Harrier logs with no unsolicited response before it stays unexplained
  const res2 = newResult();
  compareTransactions({ name: 'c', refused: false }, [], [http(0, { hostname: 'h', url: '/', http_method: 'GET' })], res2);
  assert.equal(res2.unexplained.length, 1);
});

test('tls: records Harrier lacks are explained only by what tshark shows on the 5-tuple (dtls, openvpn, ocsp, starttls, socks, tunnels)', () => {
  const hello = (protos: string, l4 = 'tcp'): ReturnType<typeof parseTxRow> =>
    parseTxRow(row({ 'frame.protocols': protos, 'ip.src': '10.0.0.1', 'ip.dst': '10.0.0.2', [`${l4}.srcport`]: '40000', [`${l4}.dstport`]: '443', 'tls.handshake.type': '1', 'tls.handshake.extensions_server_name': 's', 'tls.handshake.ja3': 'aaa' }), 0);
  const cert = (protos: string, l4 = 'tcp'): ReturnType<typeof parseTxRow> =>
    parseTxRow(row({ 'frame.protocols': protos, 'ip.src': '10.0.0.2', 'ip.dst': '10.0.0.1', [`${l4}.srcport`]: '443', [`${l4}.dstport`]: '40000', 'x509sat.uTF8String': 'cn' }), 1);
  const whys = (frames: ReturnType<typeof parseTxRow>[]): string[] => {
    const res = newResult();
    compareTransactions({ name: 'c', refused: false }, frames, [], res);
    return res.unexplained.length > 0 ? ['unexplained'] : [...new Set([...res.fields.values()].flatMap((t) => [...t.explained.keys()]))];
  };
  assert.deepEqual(whys([hello('eth:ethertype:ip:udp:dtls', 'udp'), cert('eth:ethertype:ip:udp:dtls', 'udp')]), [WHY.dtls]);
  assert.deepEqual(whys([hello('eth:ethertype:ip:tcp:dtls')]), ['unexplained'], 'dtls is a udp protocol: over tcp it is no evidence');
  assert.deepEqual(whys([hello('eth:ethertype:ip:tcp:openvpn:tls')]), [WHY.tlsWrapped]);
  assert.deepEqual(whys([cert('eth:ethertype:ip:tcp:http:ocsp')]), [WHY.ocsp]);
  const before = (proto: string): ReturnType<typeof parseTxRow> =>
    parseTxRow(row({ 'frame.protocols': `eth:ethertype:ip:tcp:${proto}`, 'ip.src': '10.0.0.2', 'ip.dst': '10.0.0.1', 'tcp.srcport': '443', 'tcp.dstport': '40000' }), 0);
  assert.deepEqual(whys([before('xmpp'), hello('eth:ethertype:ip:tcp:tls')]), [WHY.starttls]);
  // Harrier follows STARTTLS of these (test/applayer/starttls*.test.ts): a missing tls record after them is unexplained
  for (const p of ['smtp', 'imap', 'pop', 'ftp', 'mysql']) assert.deepEqual(whys([before(p), hello('eth:ethertype:ip:tcp:tls')]), ['unexplained'], p);
  assert.deepEqual(whys([hello('eth:ethertype:ip:tcp:socks:tls')]), [WHY.socks]);
  assert.deepEqual(whys([hello('eth:ethertype:ip:tcp:proxy:tls')]), [WHY.proxyHeader]);
  assert.deepEqual(whys([hello('eth:ethertype:ip:udp:gtp:ip:tcp:tls')]), [WHY.tunnel]);
  assert.deepEqual(whys([hello('eth:ethertype:ip:tcp:tls')]), ['unexplained'], 'plain tls that harrier misses stays unexplained');
});

test('x509: a subject without CN compares all its values; a client-only certificate is explained when eve has no subject', () => {
  const ch = { 'frame.protocols': 'eth:ethertype:ip:tcp:tls', 'ip.src': '10.0.0.1', 'ip.dst': '10.0.0.2', 'tcp.srcport': '40000', 'tcp.dstport': '443' };
  const sh = { 'frame.protocols': 'eth:ethertype:ip:tcp:tls', 'ip.src': '10.0.0.2', 'ip.dst': '10.0.0.1', 'tcp.srcport': '443', 'tcp.dstport': '40000' };
  const rec = (tls: Record<string, unknown>): EveRecord[] => [{ event_type: 'tls', flow_id: 1, proto: 'TCP', src_ip: '10.0.0.1', src_port: 40000, dest_ip: '10.0.0.2', dest_port: 443, tls }];
  const hello = parseTxRow(row({ ...ch, 'tls.handshake.type': '1' }), 0);
  const noCn = [hello, parseTxRow(row({ ...sh, 'x509sat.CountryName': 'IT', 'x509sat.printableString': `Some-State${AGG}ntop.org` }), 1)];
  const a = newResult();
  compareTransactions({ name: 'c', refused: false }, noCn, rec({ subject: 'C=IT, ST=Some-State, O=ntop.org' }), a);
  assert.equal(summary(a)['x509.subject.cn'], '1/1 ');
  const b = newResult();
  compareTransactions({ name: 'c', refused: false }, noCn, rec({ subject: 'C=IT, ST=Other, O=ntop.org' }), b);
  assert.equal(b.unexplained.length, 1);
  const clientOnly = [hello, parseTxRow(row({ ...ch, 'tls.handshake.type': '11', 'x509sat.uTF8String': 'AnyDesk Client' }), 2)];
  const c = newResult();
  compareTransactions({ name: 'c', refused: false }, clientOnly, rec({}), c);
  assert.equal(summary(c)['x509.subject.cn'], `0/1 1:${WHY.clientCert}`);
  // a server certificate Harrier did not log is not explained by the rule
  const serverToo = [...clientOnly, parseTxRow(row({ ...sh, 'x509sat.uTF8String': 'srv' }), 3)];
  const d = newResult();
  compareTransactions({ name: 'c', refused: false }, serverToo, rec({}), d);
  assert.equal(d.unexplained.length, 1);
});

// ---- rules added while classifying the last differences (issue 4)

const flowRec = (appProto: string, sport = 40000, dport = 443): EveRecord => ({ event_type: 'flow', flow_id: 1, proto: 'TCP', src_ip: '10.0.0.1', src_port: sport, dest_ip: '10.0.0.2', dest_port: dport, app_proto: appProto });
const tcpFrame = (f: Partial<Record<(typeof TX_FIELDS)[number], string>>, back = false, i = 0): ReturnType<typeof parseTxRow> =>
  parseTxRow(
    row({
      'frame.protocols': 'eth:ethertype:ip:tcp',
      'ip.src': back ? '10.0.0.2' : '10.0.0.1',
      'ip.dst': back ? '10.0.0.1' : '10.0.0.2',
      'tcp.srcport': back ? '443' : '40000',
      'tcp.dstport': back ? '40000' : '443',
      ...f,
    }),
    i,
  );
const whysOf = (res: TxResult): string[] => (res.unexplained.length > 0 ? ['unexplained'] : [...new Set([...res.fields.values()].flatMap((t) => [...t.explained.keys()]))]);
const cmp = (frames: ReturnType<typeof parseTxRow>[], eve: EveRecord[]): TxResult => {
  const res = newResult();
  compareTransactions({ name: 'c', refused: false }, frames, eve, res);
  return res;
};

test('tls after other bytes on the connection: explained only when harrier failed the flow and the first payload is not tls', () => {
  const preamble = tcpFrame({ 'frame.protocols': 'eth:ethertype:ip:tcp:gnutella', 'tcp.len': '599' }, false, 0);
  const hello = tcpFrame({ 'frame.protocols': 'eth:ethertype:ip:tcp:tls', 'tcp.len': '264', 'tls.handshake.type': '1', 'tls.handshake.ja3': 'aaa' }, false, 3);
  assert.deepEqual(whysOf(cmp([preamble, hello], [flowRec('failed')])), [WHY.lateStart]);
  // harrier recognised something else (or tls itself): no evidence
  assert.deepEqual(whysOf(cmp([preamble, hello], [flowRec('http')])), ['unexplained']);
  // the hello is the first payload: detection saw it, so a missing record is not explained
  assert.deepEqual(whysOf(cmp([{ ...hello, index: 0 }], [flowRec('failed')])), ['unexplained']);
});

test('http after a socks-like greeting on an unregistered port: request and response explained by the late start', () => {
  const g = (back: boolean, i: number, p: string): ReturnType<typeof parseTxRow> => tcpFrame({ 'tcp.srcport': back ? '21477' : '1637', 'tcp.dstport': back ? '1637' : '21477', 'tcp.len': '3', 'frame.protocols': p }, back, i);
  const req = parseTxRow(row({ ...TCP, 'tcp.srcport': '1637', 'tcp.dstport': '21477', 'tcp.len': '395', 'http.request': '1', 'http.host': 'h', 'http.request.uri': '/' }), 4);
  const resp = parseTxRow(row({ ...TCP_BACK, 'tcp.srcport': '21477', 'tcp.dstport': '1637', 'tcp.len': '930', 'http.response': '1', 'http.response.code': '302' }), 5);
  const frames = [g(false, 0, 'eth:ethertype:ip:tcp:data'), g(true, 1, 'eth:ethertype:ip:tcp:data'), req, resp];
  const failed = { ...flowRec('failed', 1637, 21477) };
  const r = cmp(frames, [failed]);
  assert.deepEqual(r.unexplained, []);
  assert.equal(summary(r)['http.request'], `0/1 1:${WHY.lateStart}`);
  assert.equal(summary(r)['http.response.code'], `0/1 1:${WHY.lateStart}`);
});

test('tls certificates without any hello or syn: the capture began inside the handshake', () => {
  const cert = tcpFrame({ 'frame.protocols': 'eth:ethertype:ip:tcp:tls', 'tcp.len': '1280', 'tls.handshake.type': '11', 'x509sat.uTF8String': 'cn' }, true, 2);
  assert.deepEqual(whysOf(cmp([cert], [])), [WHY.midHandshake]);
  const syn = tcpFrame({ 'tcp.flags.syn': '1' }, false, 0);
  assert.deepEqual(whysOf(cmp([syn, cert], [])), ['unexplained'], 'a syn was captured: the handshake start should be there');
  const sh = tcpFrame({ 'frame.protocols': 'eth:ethertype:ip:tcp:tls', 'tls.handshake.type': '2' }, true, 1);
  assert.deepEqual(whysOf(cmp([sh, cert], [])), ['unexplained'], 'a ServerHello was captured');
});

test("tls: tshark's JA3 of a partial string is explained when harrier's string extends it or harrier flagged the hello", () => {
  const partial = '769,4-5-10,';
  const md5 = createHash('md5').update(partial).digest('hex');
  const hello = (full: string, ja3: string): ReturnType<typeof parseTxRow> =>
    tcpFrame({ 'frame.protocols': 'eth:ethertype:ip:tcp:tls', 'tls.handshake.type': '1', 'tls.handshake.ja3': ja3, 'tls.handshake.ja3_full': full }, false, 0);
  const tlsRec = (ja3: Record<string, string>): EveRecord => ({ event_type: 'tls', flow_id: 1, proto: 'TCP', src_ip: '10.0.0.1', src_port: 40000, dest_ip: '10.0.0.2', dest_port: 443, tls: { ja3 } });
  assert.deepEqual(whysOf(cmp([hello(partial, md5)], [tlsRec({ hash: 'x', string: '769,4-5-10,,,' })])), [WHY.ja3Partial]);
  assert.deepEqual(whysOf(cmp([hello(partial, md5)], [tlsRec({ hash: 'x', string: '771,4-5-10,,,' })])), ['unexplained'], 'harrier string does not extend it');
  const anomaly: EveRecord = { event_type: 'anomaly', proto: 'TCP', src_ip: '10.0.0.1', src_port: 40000, dest_ip: '10.0.0.2', dest_port: 443, anomaly: { event: 'tls.invalid_handshake_message' } };
  assert.deepEqual(whysOf(cmp([hello('769,,', createHash('md5').update('769,,').digest('hex'))], [anomaly])), [WHY.ja3Partial]);
  assert.deepEqual(whysOf(cmp([hello('769,,', createHash('md5').update('769,,').digest('hex'))], [])), ['unexplained'], 'no anomaly from harrier');
  const full = '769,4-5,0-10,23,0';
  assert.deepEqual(whysOf(cmp([hello(full, createHash('md5').update(full).digest('hex'))], [tlsRec({ hash: 'y', string: '769,4-5,0-10,23,0' })])), ['unexplained'], 'a complete string is compared as is');
});

test('http: a response stream picked up mid-message is explained by libhtp reading it as body', () => {
  const req = parseTxRow(row({ ...TCP, 'tcp.len': '436', 'http.request': '1', 'http.host': 'h', 'http.request.uri': '/a' }), 0);
  const body = parseTxRow(row({ ...TCP_BACK, 'frame.protocols': 'eth:ethertype:ip:tcp:http:data', 'tcp.len': '1440' }), 1);
  const resp = parseTxRow(row({ ...TCP_BACK, 'tcp.len': '300', 'http.response': '1', 'http.response.code': '200' }), 2);
  const eve = [http(0, { hostname: 'h', url: '/a', http_method: 'GET' })];
  const invalid: EveRecord = { event_type: 'anomaly', proto: 'TCP', src_ip: '10.0.0.1', src_port: 40000, dest_ip: '10.0.0.2', dest_port: 80, anomaly: { event: 'http.response_invalid_protocol' } };
  assert.equal(summary(cmp([req, body, resp], [...eve, invalid]))['http.response.code'], `0/1 1:${WHY.midResponse}`);
  assert.equal(cmp([req, body, resp], eve).unexplained.length, 1, 'without the anomaly');
  assert.equal(cmp([req, resp], [...eve, invalid]).unexplained.length, 1, "the server's first payload is a response");
  // the same evidence from the transaction itself: a response body without a status line
  const bodyOnly = [http(0, { hostname: 'h', url: '/a', http_method: 'GET', length: 97896 }), http(1, { hostname: 'h', url: '/b', http_method: 'GET' })];
  const req2 = parseTxRow(row({ ...TCP, 'tcp.len': '436', 'http.request': '1', 'http.host': 'h', 'http.request.uri': '/b' }), 3);
  const resp2 = parseTxRow(row({ ...TCP_BACK, 'tcp.len': '300', 'http.response': '1', 'http.response.code': '200' }), 4);
  assert.equal(summary(cmp([req, body, resp, req2, resp2], bodyOnly))['http.response.code'], `0/2 2:${WHY.midResponse}`);
});

test('http: requests tshark does not dissect (out-of-order segments, unknown method) and an empty tshark uri after several spaces', () => {
  const ooo = parseTxRow(row({ ...TCP, 'frame.protocols': 'eth:ethertype:ip:tcp', 'tcp.len': '1452', 'tcp.analysis.out_of_order': '1' }), 0);
  const resp = parseTxRow(row({ ...TCP_BACK, 'tcp.len': '296', 'http.response': '1', 'http.response.code': '302' }), 1);
  const post = http(0, { hostname: 'h', url: '/x', http_method: 'POST', status: 302 });
  assert.deepEqual(whysOf(cmp([ooo, resp], [post])), [WHY.requestDisordered]);
  assert.deepEqual(whysOf(cmp([resp], [post])), ['unexplained'], 'no disordered client frame');
  // client payload tshark left pending (never dissected, never reassembled): the request pdu was not finished
  const pending = parseTxRow(row({ ...TCP, 'frame.protocols': 'eth:ethertype:ip:tcp', 'tcp.len': '1460' }), 0);
  assert.deepEqual(whysOf(cmp([pending], [http(0, { hostname: 'h', url: '/servlets/mms', http_method: 'POST' })])), [WHY.requestUnfinished]);
  assert.deepEqual(whysOf(cmp([{ ...pending, reassembled: true }], [http(0, { hostname: 'h', url: '/servlets/mms', http_method: 'POST' })])), ['unexplained'], 'tshark finished that reassembly');
  assert.deepEqual(whysOf(cmp([ooo, resp], [http(0, { hostname: 'h', url: '/x', http_method: 'POST', status: 200 })])), ['unexplained'], 'statuses differ');
  const r405 = parseTxRow(row({ ...TCP_BACK, 'tcp.len': '295', 'http.response': '1', 'http.response.code': '405' }), 1);
  assert.deepEqual(whysOf(cmp([r405], [http(0, { hostname: 'h', url: '/', http_method: 'XFOC', status: 405 })])), [WHY.unknownMethod]);
  assert.deepEqual(whysOf(cmp([], [http(0, { hostname: 'h', url: '/', http_method: 'PUT' })])), ['unexplained'], 'a method tshark knows');
  const spaced = parseTxRow(row({ ...TCP, 'http.request': '1', 'http.host': 'h', 'http.request.uri': '', 'http.request.version': '/long_uri HTTP/1.1' }), 0);
  const r = cmp([spaced], [http(0, { hostname: 'h', url: '/long_uri', http_method: 'GET', protocol: 'HTTP/1.1' })]);
  assert.equal(summary(r)['http.request.uri'], `0/1 1:${WHY.methodSpaces}`);
  assert.equal(cmp([spaced], [http(0, { hostname: 'h', url: '/other', http_method: 'GET', protocol: 'HTTP/1.1' })]).unexplained.length, 1);
});

test('dns: extended labels, refused classes and question-less inverse queries are explained only with their evidence', () => {
  const q = { 'frame.protocols': 'eth:ethertype:ip:udp:dns', 'ip.src': '10.0.0.1', 'ip.dst': '10.0.0.53', 'udp.srcport': '5000', 'udp.dstport': '53', 'dns.flags.response': '0', 'dns.id': '0x0005' };
  const a = { ...q, 'ip.src': '10.0.0.53', 'ip.dst': '10.0.0.1', 'udp.srcport': '53', 'udp.dstport': '5000', 'dns.flags.response': '1' };
  assert.deepEqual(whysOf(cmp([parseTxRow(row({ ...q, 'dns.qry.name': '<Unknown extended label>', 'dns.qry.class': '0x0001' }), 0)], [])), [WHY.dnsExtLabel]);
  assert.deepEqual(whysOf(cmp([parseTxRow(row({ ...q, 'dns.qry.name': 'x.example', 'dns.qry.class': '0x2001' }), 0)], [])), [WHY.dnsClass]);
  assert.deepEqual(whysOf(cmp([parseTxRow(row({ ...q, 'dns.qry.name': 'x.example', 'dns.qry.class': '0x8001' }), 0)], [])), ['unexplained'], 'mDNS unicast bit on IN is a plausible class');
  // a retransmission with a good class is unmatched because the bad-class copy took the record: same id and name
  const base = { proto: 'UDP', src_ip: '10.0.0.1', src_port: 5000, dest_ip: '10.0.0.53', dest_port: 53, flow_id: 7 };
  const rec: EveRecord = { ...base, event_type: 'dns', dns: { type: 'query', id: 5, rrname: 'x.example' } };
  const r = cmp([parseTxRow(row({ ...q, 'dns.qry.name': 'x.example', 'dns.qry.class': '0x2001' }), 0), parseTxRow(row({ ...q, 'dns.qry.name': 'x.example', 'dns.qry.class': '0x0001' }), 1)], [rec]);
  assert.deepEqual(r.unexplained, []);
  assert.equal(summary(r)['dns.qry.name'], `1/2 1:${WHY.dnsClass}`);
  const answer: EveRecord = { ...base, event_type: 'dns', dns: { type: 'answer', id: 5 } };
  const iq = parseTxRow(row({ ...q, 'dns.qry.class': '' }), 0);
  const iqAnswer = parseTxRow(row({ ...a }), 1);
  const r2 = cmp([iq, iqAnswer], [answer]);
  assert.deepEqual(r2.unexplained, []);
  assert.equal(summary(r2)['dns.qry.name'], `1/2 1:${WHY.dnsNoQuestion}`);
  assert.deepEqual(whysOf(cmp([iq], [])), ['unexplained'], 'harrier logged nothing of that id');
});
