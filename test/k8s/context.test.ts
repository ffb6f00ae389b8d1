/**
 * Responder context in the `k8s` block: the original client behind trusted
 * proxies (Forwarded / X-Forwarded-For / X-Real-IP, PROXY protocol v1/v2) and
 * the egress domain from SNI or Host — through the real Pipeline with the
 * context tracker as a detector, as `harrier analyze` wires it. Also the
 * trust walk and the PROXY header codec as units, and EVE schema validity.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IdentityIndex } from '../../src/k8s/identity-index.js';
import { K8sEnricher } from '../../src/k8s/enrich.js';
import { FlowContextTracker, forwardedChain } from '../../src/k8s/flow-context.js';
import { decodeProxyHeader } from '../../src/applayer/proxy/header.js';
import { Pipeline } from '../../src/sensor/pipeline.js';
import { defaultConfig } from '../../src/sensor/config.js';
import { clientHello, feed, tcpSession } from './packets.js';
import { node, pod } from './fake-apiserver.js';
import { EVE_SCHEMA, eveSchemaErrors } from '../support/eve-schema.js';
import { sharedPath } from '../support/shared.js';

/** Schema checks need Suricata's schema from ../shared/data; the rest of each test runs without it. */
const haveSchema = sharedPath(EVE_SCHEMA) !== null;

const T0 = 1_800_000_000;

type Rec = Record<string, unknown> & { event_type: string; k8s?: { src: Record<string, unknown>; dest: Record<string, unknown> } };

function cluster(): IdentityIndex {
  const idx = new IdentityIndex();
  idx.upsert(node('node-1', '172.30.0.11', '10.244.1.0/24'));
  idx.upsert(pod({ name: 'ingress-nginx-ctrl', ns: 'ingress', uid: 'u-ing', ip: '10.244.1.2', created: T0 - 100 }));
  idx.upsert(pod({ name: 'shop-web', uid: 'u-web', ip: '10.244.1.3', created: T0 - 100 }));
  return idx;
}

function run(frames: ReturnType<typeof tcpSession>, trust: { trustedProxies?: string[]; trustedProxyHops?: number }): { recs: Rec[]; ctx: FlowContextTracker } {
  const recs: Rec[] = [];
  const ctx = new FlowContextTracker(trust);
  const enricher = new K8sEnricher(cluster(), { cluster: 'test', flowContext: (id) => ctx.get(id) });
  const p = new Pipeline(defaultConfig(), { eve: { write: (r: object) => void recs.push(JSON.parse(JSON.stringify(r)) as Rec), close: () => {}, records: 0 }, k8s: enricher });
  p.addDetector(ctx);
  feed(p, frames);
  p.finish();
  return { recs, ctx };
}

const httpReq = (headers: string): string => `GET /cart HTTP/1.1\r\nHost: shop.example.com\r\n${headers}\r\n`;
const httpRes = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';

test('X-Forwarded-For through a trusted ingress: k8s.src.original_ip on the http and flow records; untrusted peers are not believed', () => {
  const frames = tcpSession('10.244.1.2', 40100, '10.244.1.3', 8080, T0, httpReq('X-Forwarded-For: 203.0.113.7, 10.244.1.50\r\n'), httpRes);
  // The ingress pod's range is trusted, and so is the intermediate 10.244.1.50: the original is 203.0.113.7.
  const trusted = run(frames, { trustedProxies: ['10.244.1.0/24'] });
  const http = trusted.recs.find((r) => r.event_type === 'http')!;
  const flow = trusted.recs.find((r) => r.event_type === 'flow')!;
  for (const r of [http, flow]) {
    assert.equal(r.k8s!.src.kind, 'pod');
    assert.equal(r.k8s!.src.pod, 'ingress-nginx-ctrl');
    assert.equal(r.k8s!.src.original_ip, '203.0.113.7', r.event_type);
    assert.equal(r.k8s!.dest.original_ip, undefined);
    if (haveSchema) assert.deepEqual(eveSchemaErrors(r), [], `${r.event_type} stays valid EVE`);
  }
  // One trusted hop (the peer) only: the right-most XFF entry is the client.
  const oneHop = run(frames, { trustedProxyHops: 1 });
  assert.equal(oneHop.recs.find((r) => r.event_type === 'http')!.k8s!.src.original_ip, '10.244.1.50');
  // Nothing trusted (the default): a forgeable header is not reported.
  const none = run(frames, {});
  assert.equal(none.recs.find((r) => r.event_type === 'http')!.k8s!.src.original_ip, undefined);
  assert.equal(none.ctx.counters()['harrier.k8s.context.original_ip_untrusted'], 1);
});

test('Forwarded (RFC 7239) wins over X-Forwarded-For; X-Real-IP alone is used when it is all there is', () => {
  const fwd = run(tcpSession('10.244.1.2', 40101, '10.244.1.3', 8080, T0, httpReq('Forwarded: for="[2001:db8::7]:4711";proto=https, for=10.244.1.9\r\nX-Forwarded-For: 198.51.100.1\r\n'), httpRes), { trustedProxies: ['10.244.1.0/24'] });
  assert.equal(fwd.recs.find((r) => r.event_type === 'http')!.k8s!.src.original_ip, '2001:db8::7');
  const real = run(tcpSession('10.244.1.2', 40102, '10.244.1.3', 8080, T0, httpReq('X-Real-IP: 198.51.100.9\r\n'), httpRes), { trustedProxyHops: 1 });
  assert.equal(real.recs.find((r) => r.event_type === 'http')!.k8s!.src.original_ip, '198.51.100.9');
  assert.deepEqual(forwardedChain(null, ' 1.2.3.4 ,5.6.7.8', '9.9.9.9'), { chain: ['1.2.3.4', '5.6.7.8'], source: 'x-forwarded-for' });
  const t = new FlowContextTracker({ trustedProxies: ['10.0.0.0/8'] });
  assert.equal(t.originalClient('10.0.0.1', ['1.1.1.1', '10.0.0.2', '10.0.0.3']), '1.1.1.1');
  assert.equal(t.originalClient('192.0.2.1', ['1.1.1.1']), null, 'untrusted peer');
  assert.equal(t.originalClient('10.0.0.1', ['1.1.1.1', 'unknown']), null, 'an obfuscated hop stops the walk');
  assert.equal(t.originalClient('10.0.0.1', ['10.0.0.5', '10.0.0.6']), '10.0.0.5', 'all trusted: the left-most');
});

test('PROXY protocol v1 and v2 headers at the start of a stream give the original client (trusted load balancer)', () => {
  const v1 = Buffer.from('PROXY TCP4 192.0.2.44 10.244.1.3 51234 8080\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n', 'latin1');
  const a = run(tcpSession('172.30.0.11', 40200, '10.244.1.3', 8080, T0, v1, httpRes), { trustedProxies: ['172.30.0.0/16'] });
  const fa = a.recs.find((r) => r.event_type === 'flow')!;
  assert.equal(fa.k8s!.src.kind, 'node');
  assert.equal(fa.k8s!.src.original_ip, '192.0.2.44');
  const sig = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
  const v2 = Buffer.concat([sig, Buffer.from([0x21, 0x11, 0, 12, 198, 51, 100, 23, 10, 244, 1, 3, 0xc8, 0x01, 0x1f, 0x90]), Buffer.from('GET / HTTP/1.1\r\n\r\n')]);
  const b = run(tcpSession('172.30.0.11', 40201, '10.244.1.3', 8080, T0, v2, httpRes), { trustedProxies: ['172.30.0.0/16'] });
  assert.equal(b.recs.find((r) => r.event_type === 'flow')!.k8s!.src.original_ip, '198.51.100.23');
  const c = run(tcpSession('172.30.0.11', 40202, '10.244.1.3', 8080, T0, v1, httpRes), {});
  assert.equal(c.recs.find((r) => r.event_type === 'flow')!.k8s!.src.original_ip, undefined, 'untrusted load balancer');
  // Codec units: partial, malformed, LOCAL.
  assert.equal(decodeProxyHeader(v1, 0, 20), null, 'incomplete line');
  assert.equal(decodeProxyHeader(Buffer.from('PROXY TCP4 999.1.1.1 1.1.1.1 1 2\r\n'), 0, 34), null);
  const local = Buffer.concat([sig, Buffer.from([0x20, 0x00, 0, 0])]);
  assert.deepEqual(decodeProxyHeader(local, 0, local.length), { version: 2, srcIp: null, srcPort: 0, dstIp: null, dstPort: 0, length: 16 });
  const six = Buffer.concat([sig, Buffer.from([0x21, 0x21, 0, 36]), Buffer.from('20010db8000000000000000000000001', 'hex'), Buffer.alloc(16), Buffer.from([0, 80, 0, 81])]);
  assert.equal(decodeProxyHeader(six, 0, six.length)!.srcIp, '2001:db8::1');
});

test('egress: an external server is named by the flow’s TLS SNI, else its HTTP Host', () => {
  const tls = run(tcpSession('10.244.1.3', 40300, '93.184.216.34', 443, T0, clientHello('api.payments.example')), {});
  const tf = tls.recs.find((r) => r.event_type === 'flow')!;
  assert.equal(tf.k8s!.src.pod, 'shop-web');
  assert.deepEqual(tf.k8s!.dest, { kind: 'external', domain: 'api.payments.example' });
  const http = run(tcpSession('10.244.1.3', 40301, '93.184.216.35', 80, T0, 'GET / HTTP/1.1\r\nHost: Updates.Example.ORG:80\r\n\r\n', httpRes), {});
  for (const r of http.recs.filter((x) => x.event_type === 'http' || x.event_type === 'flow')) {
    assert.deepEqual(r.k8s!.dest, { kind: 'external', domain: 'updates.example.org' }, r.event_type);
    if (haveSchema) assert.deepEqual(eveSchemaErrors(r), []);
  }
  // Entries of ended flows are released.
  assert.equal(http.ctx.counters()['harrier.k8s.context.flows'], 0);
});
