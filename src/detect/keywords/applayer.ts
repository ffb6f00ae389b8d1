/**
 * App-layer state keywords that are not buffers: app-layer-protocol,
 * app-layer-event, dns.opcode, tls.version, ssl_version, ssl_state and the
 * TLS certificate state flags.
 */
import { fail } from '../rules/errors.js';
import { clip } from '../rules/lexer.js';
import type { KeywordDecl } from './types.js';
import { commaList, expectValue, intCompare, uint } from './types.js';

export const appLayerProtocol: KeywordDecl = {
  name: 'app-layer-protocol',
  value: 'required',
  doc: '`[!]<proto>` (also `failed`, `unknown`): the flow\'s detected protocol',
  parse(v, b) {
    let t = expectValue(v, 'app-layer-protocol').trim();
    const negated = t.startsWith('!');
    if (negated) t = t.slice(1).trim();
    const parts = commaList(t);
    if (parts.length > 1) fail('app-layer-protocol: modes (to_server, direction, …) are not supported');
    if (!/^[a-z0-9_-]+$/i.test(t)) fail(`app-layer-protocol: "${clip(t)}" is not a protocol name`);
    b.checks.push({ kind: 'app_layer_protocol', proto: t.toLowerCase(), negated });
  },
};

export const appLayerEvent: KeywordDecl = {
  name: 'app-layer-event',
  value: 'required',
  doc: '`[!]<proto>.<event>`: the app-layer parser raised that event',
  parse(v, b) {
    let t = expectValue(v, 'app-layer-event').trim();
    const negated = t.startsWith('!');
    if (negated) t = t.slice(1).trim();
    // Suricata's protocol-independent events are spelt `applayer_<event>` in rules; the app layer names them `applayer.<event>`.
    const generic = /^applayer_([a-z0-9_]+)$/i.exec(t);
    if (generic !== null) t = `applayer.${generic[1]!}`;
    if (!/^[a-z0-9_-]+\.[a-z0-9_.-]+$/i.test(t)) fail(`app-layer-event: "${clip(t)}" is not "<proto>.<event>"`);
    b.checks.push({ kind: 'app_layer_event', event: t.toLowerCase(), negated });
  },
};

export const decodeEvent: KeywordDecl = {
  name: 'decode-event',
  value: 'required',
  doc: '`<layer>.<event>` (e.g. `ipv4.pkt_too_small`): the decoder raised that event on the packet',
  parse(v, b) {
    const t = expectValue(v, 'decode-event').trim().toLowerCase().replace(/^decoder\./, '');
    if (!/^[a-z0-9_-]+\.[a-z0-9_.-]+$/.test(t)) fail(`decode-event: "${clip(t)}" is not "<layer>.<event>"`);
    b.checks.push({ kind: 'decode_event', event: t });
  },
};

export const streamEvent: KeywordDecl = {
  name: 'stream-event',
  value: 'required',
  doc: '`<event>` (e.g. `3whs_synack_in_wrong_direction`): the TCP stream engine raised that event on the packet',
  parse(v, b) {
    const t = expectValue(v, 'stream-event').trim().toLowerCase().replace(/^stream\./, '');
    if (!/^[a-z0-9_.-]+$/.test(t)) fail(`stream-event: "${clip(t)}" is not an event name`);
    b.checks.push({ kind: 'stream_event', event: t });
  },
};

export const dnsOpcode: KeywordDecl = {
  name: 'dns.opcode',
  value: 'required',
  doc: '`[!]<n>`: DNS header opcode',
  parse(v, b) {
    let t = expectValue(v, 'dns.opcode').trim();
    const negated = t.startsWith('!');
    if (negated) t = t.slice(1).trim();
    b.checks.push({ kind: 'dns_opcode', value: uint(t, 'dns.opcode', 0, 15), negated });
  },
};

const TLS_VERSIONS: Record<string, number> = { '1.0': 0x0301, '1.1': 0x0302, '1.2': 0x0303, '1.3': 0x0304, ssl3: 0x0300, '3.0': 0x0300 };

export const tlsVersion: KeywordDecl = {
  name: 'tls.version',
  value: 'required',
  doc: '`1.0|1.1|1.2|1.3|0xNNNN`: negotiated TLS version',
  parse(v, b) {
    const t = expectValue(v, 'tls.version').trim().replace(/^"|"$/g, '');
    const num = TLS_VERSIONS[t] ?? (/^0x[0-9a-f]{1,4}$/i.test(t) ? parseInt(t.slice(2), 16) : undefined);
    if (num === undefined) fail(`tls.version: unknown version "${clip(t)}"`);
    b.checks.push({ kind: 'tls_version', value: num });
  },
};

const SSL_VERSIONS: Record<string, number> = { sslv2: 0x0200, sslv3: 0x0300, 'tls1.0': 0x0301, 'tls1.1': 0x0302, 'tls1.2': 0x0303, 'tls1.3': 0x0304 };

export const sslVersion: KeywordDecl = {
  name: 'ssl_version',
  value: 'required',
  doc: '`sslv2,sslv3,tls1.0,tls1.1,tls1.2,tls1.3` (items may be negated with `!`)',
  parse(v, b) {
    const versions: number[] = [];
    const negated: number[] = [];
    for (let o of commaList(expectValue(v, 'ssl_version'))) {
      const neg = o.startsWith('!');
      if (neg) o = o.slice(1).trim();
      const num = SSL_VERSIONS[o.toLowerCase()];
      if (num === undefined) fail(`ssl_version: unknown version "${clip(o)}"`);
      (neg ? negated : versions).push(num);
    }
    b.checks.push({ kind: 'ssl_version', versions, negated });
  },
};

const SSL_STATES = new Set(['client_hello', 'server_hello', 'client_keyx', 'server_keyx', 'unknown']);

export const sslState: KeywordDecl = {
  name: 'ssl_state',
  value: 'required',
  doc: '`client_hello|server_hello|client_keyx|server_keyx|unknown` (`,` for all, `|` for any, `!` negates)',
  parse(v, b) {
    const t = expectValue(v, 'ssl_state');
    if (t.includes(',') && t.includes('|')) fail('ssl_state: cannot mix "," and "|"');
    if (t.includes(',')) fail('ssl_state: "," (all of) is not supported');
    const states: string[] = [];
    const negated: string[] = [];
    for (let o of t.split('|')) {
      o = o.trim();
      const neg = o.startsWith('!');
      if (neg) o = o.slice(1).trim();
      if (!SSL_STATES.has(o)) fail(`ssl_state: unknown state "${clip(o)}"`);
      (neg ? negated : states).push(o);
    }
    b.checks.push({ kind: 'ssl_state', states, negated });
  },
};

export const tlsCertExpired: KeywordDecl = {
  name: 'tls_cert_expired',
  value: 'none',
  doc: 'the server certificate has expired',
  parse(_v, b) {
    b.checks.push({ kind: 'tls_cert_expired' });
  },
};

export const tlsCertValid: KeywordDecl = {
  name: 'tls_cert_valid',
  value: 'none',
  doc: 'the server certificate is within its validity period',
  parse(_v, b) {
    b.checks.push({ kind: 'tls_cert_valid' });
  },
};

export const tlsStore: KeywordDecl = {
  name: 'tls.store',
  aliases: ['tls_store'],
  value: 'none',
  doc: 'store the certificate chain (side effect)',
  parse(_v, b) {
    b.checks.push({ kind: 'tls_store' });
  },
};

export const tlsCertChainLen: KeywordDecl = {
  name: 'tls.cert_chain_len',
  value: 'required',
  doc: '`[op]n` (`3`, `<4`, `>0`, `0<>4`, `!2`): number of certificates in the server\'s chain',
  parse(v, b) {
    b.checks.push({ kind: 'tls_cert_chain_len', cmp: intCompare(v, 'tls.cert_chain_len') });
  },
};

export const APPLAYER_KEYWORDS: readonly KeywordDecl[] = [appLayerProtocol, appLayerEvent, decodeEvent, streamEvent, dnsOpcode, tlsVersion, sslVersion, sslState, tlsCertExpired, tlsCertValid, tlsStore, tlsCertChainLen];
