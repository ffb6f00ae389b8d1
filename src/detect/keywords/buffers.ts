/**
 * Inspection buffers: sticky buffer keywords (`http.uri;` switches the buffer
 * for the content/pcre/byte_* that follow), their old names, the legacy
 * content modifiers (`content:"x"; http_uri;` moves that one content), the
 * buffer transforms, and the legacy value keywords tls.subject/tls.issuerdn.
 *
 * A sticky buffer is only a name here: the engine supplies the bytes.
 */
import type { BufferName, TransformName } from '../rules/ast.js';
import { fail } from '../rules/errors.js';
import { clip, stripQuotes } from '../rules/lexer.js';
import { decodeContent, parseContentValue } from './content.js';
import { translatePcre } from '../rules/regex.js';
import type { KeywordDecl } from './types.js';
import { expectValue } from './types.js';

/** Sticky buffers: [buffer, aliases, doc]. */
const STICKY: readonly [BufferName, readonly string[], string][] = [
  ['http.uri', ['http.uri.normalized'], 'normalised request URI'],
  ['http.uri.raw', [], 'request URI as sent'],
  ['http.method', [], 'request method'],
  ['http.protocol', ['http_protocol'], 'protocol of the request/response line (`HTTP/1.1`)'],
  ['http.request_line', ['http_request_line'], 'whole request line'],
  ['http.header', [], 'normalised headers (`Name: value\\r\\n`…)'],
  ['http.header.raw', [], 'headers as sent'],
  ['http.header_names', ['http_header_names'], 'header names, each `\\r\\n`-terminated'],
  ['http.request_header', [], 'one request header per match (`name: value`)'],
  ['http.response_header', [], 'one response header per match (`name: value`)'],
  ['http.host', [], 'normalised (lower-case) Host'],
  ['http.host.raw', [], 'Host as sent'],
  ['http.user_agent', [], 'User-Agent value'],
  ['http.cookie', [], 'Cookie / Set-Cookie value'],
  ['http.referer', ['http_referer'], 'Referer value'],
  ['http.content_type', ['http_content_type'], 'Content-Type value'],
  ['http.content_len', ['http_content_len'], 'Content-Length value'],
  ['http.accept', ['http_accept'], 'Accept value'],
  ['http.accept_enc', ['http_accept_enc'], 'Accept-Encoding value'],
  ['http.accept_lang', ['http_accept_lang'], 'Accept-Language value'],
  ['http.connection', ['http_connection'], 'Connection value'],
  ['http.request_body', [], 'request body (dechunked, decompressed)'],
  ['http.start', ['http_start'], 'request/response line plus headers'],
  ['http.stat_code', [], 'response status code'],
  ['http.stat_msg', [], 'response status message'],
  ['http.response_line', ['http_response_line'], 'whole response line'],
  ['http.server', [], 'Server value'],
  ['http.location', [], 'Location value'],
  ['file.data', ['file_data', 'http.response_body'], 'file/response body data'],
  ['file.name', [], 'file name'],
  ['dns.query', ['dns_query'], 'DNS query name'],
  ['tls.sni', ['tls_sni'], 'TLS SNI'],
  ['tls.cert_subject', ['tls_cert_subject'], 'certificate subject'],
  ['tls.cert_issuer', ['tls_cert_issuer'], 'certificate issuer'],
  ['tls.cert_serial', ['tls_cert_serial'], 'certificate serial'],
  ['tls.cert_fingerprint', ['tls_cert_fingerprint'], 'certificate SHA-1 fingerprint'],
  ['tls.certs', [], 'each certificate of the chain (DER)'],
  ['ja3.hash', ['ja3_hash'], 'JA3 MD5'],
  ['ja3.string', ['ja3_string'], 'JA3 string'],
  ['ja3s.hash', ['ja3s_hash'], 'JA3S MD5'],
  ['ja3s.string', ['ja3s_string'], 'JA3S string'],
  ['ja4.hash', [], 'JA4 fingerprint'],
  ['ssh.proto', ['ssh_proto'], 'SSH protocol version'],
  ['ssh.software', ['ssh_software'], 'SSH software version'],
  ['ssh.hassh', [], 'HASSH'],
  ['ssh.hassh.string', [], 'HASSH string'],
  ['ssh.hassh.server', [], 'HASSH server'],
  ['ssh.hassh.server.string', [], 'HASSH server string'],
  ['ipv4.hdr', [], 'IPv4 header with options'],
  ['ipv6.hdr', [], 'IPv6 header with extension headers'],
  ['tcp.hdr', [], 'TCP header with options'],
  ['udp.hdr', [], 'UDP header (8 bytes)'],
  ['icmpv4.hdr', [], 'ICMPv4 header (8 bytes; with the timestamps or router addresses of those types)'],
  ['icmpv6.hdr', [], 'ICMPv6 header (8 bytes)'],
  ['ip.src', [], 'source address, raw bytes (4 for IPv4, 16 for IPv6; for `dataset` type ip/ipv4/ipv6)'],
  ['ip.dst', [], 'destination address, raw bytes (4 for IPv4, 16 for IPv6)'],
];

function sticky(buffer: BufferName, aliases: readonly string[], doc: string): KeywordDecl {
  return {
    name: buffer,
    aliases,
    value: 'none',
    doc: `sticky buffer: ${doc}`,
    parse(_v, b) {
      b.setSticky(buffer);
    },
  };
}

/** Legacy content modifiers: [name, buffer]. */
const MODIFIERS: readonly [string, BufferName][] = [
  ['http_uri', 'http.uri'],
  ['http_raw_uri', 'http.uri.raw'],
  ['http_method', 'http.method'],
  ['http_header', 'http.header'],
  ['http_raw_header', 'http.header.raw'],
  ['http_cookie', 'http.cookie'],
  ['http_user_agent', 'http.user_agent'],
  ['http_host', 'http.host'],
  ['http_raw_host', 'http.host.raw'],
  ['http_client_body', 'http.request_body'],
  ['http_server_body', 'file.data'],
  ['http_stat_code', 'http.stat_code'],
  ['http_stat_msg', 'http.stat_msg'],
];

function modifier(name: string, buffer: BufferName): KeywordDecl {
  return {
    name,
    value: 'none',
    doc: `content modifier: previous content is in ${buffer}`,
    parse(_v, b) {
      if (b.stickyActive && b.currentBuffer !== buffer) fail(`${name} cannot follow the sticky buffer ${b.currentBuffer} (use pkt_data first)`);
      b.moveLastContent(name, buffer);
    },
  };
}

export const pktData: KeywordDecl = {
  name: 'pkt_data',
  value: 'none',
  doc: 'back to the default buffer (packet payload / stream)',
  parse(_v, b) {
    b.resetSticky();
  },
};

export const base64Data: KeywordDecl = {
  name: 'base64_data',
  value: 'none',
  doc: 'sticky buffer: the bytes decoded by the last base64_decode',
  parse(_v, b) {
    if (!b.sawBase64Decode) fail('base64_data needs a base64_decode before it');
    b.setSticky('base64_data');
  },
};

export const base64Decode: KeywordDecl = {
  name: 'base64_decode',
  value: 'optional',
  doc: '`[bytes <n>][, offset <n>][, relative]`: decode base64 in the current buffer for base64_data',
  parse(v, b) {
    let bytes: number | null = null;
    let offset = 0;
    let relative = false;
    if (v !== null && v.trim() !== '') {
      for (const item of v.split(',')) {
        const t = item.trim();
        let m: RegExpExecArray | null;
        if (t === 'relative') relative = true;
        else if ((m = /^bytes\s+(\d+)$/.exec(t)) !== null) {
          bytes = Number(m[1]);
          if (bytes === 0) fail('base64_decode: bytes must be > 0');
        } else if ((m = /^offset\s+(\d+)$/.exec(t)) !== null) offset = Number(m[1]);
        else fail(`base64_decode: unknown option "${clip(t)}"`);
      }
    }
    b.addOp({ kind: 'base64_decode', bytes, offset, relative });
    b.sawBase64Decode = true;
  },
};

const TRANSFORMS: readonly [TransformName, string][] = [
  ['dotprefix', 'prefixes the buffer with "." (domain suffix matching)'],
  ['strip_whitespace', 'removes all whitespace'],
  ['compress_whitespace', 'collapses whitespace runs into one space'],
  ['to_lowercase', 'lower-cases the buffer'],
  ['to_uppercase', 'upper-cases the buffer'],
  ['to_md5', 'replaces the buffer by its MD5'],
  ['to_sha1', 'replaces the buffer by its SHA-1'],
  ['to_sha256', 'replaces the buffer by its SHA-256'],
  ['url_decode', 'decodes %xx and +'],
  ['header_lowercase', 'lower-cases header names'],
  ['strip_pseudo_headers', 'removes HTTP/2 pseudo headers'],
];

/**
 * `pcrexform:"re"`: the buffer becomes the first capture group of `re`
 * (Suricata 7, "Transformations"). The regex is checked here (it must
 * compile and capture); the transform's name carries it.
 */
const pcrexform: KeywordDecl = {
  name: 'pcrexform',
  value: 'required',
  doc: 'transform: `"regex"` — the buffer becomes the regex\'s first capture group',
  parse(v, b) {
    const t = expectValue(v, 'pcrexform').trim();
    const re = t.startsWith('"') ? stripQuotes(t) : t;
    if (re.length === 0) fail('pcrexform: empty regex');
    let compiled: RegExp;
    try {
      compiled = new RegExp(translatePcre(re, { caseless: false, dotall: false, multiline: false, extended: false, dollarEndOnly: false, ungreedy: false }).source);
    } catch (err) {
      fail(`pcrexform: invalid regex "${clip(re)}": ${String((err as Error).message).slice(0, 120)}`);
    }
    if (new RegExp(`${compiled.source}|`).exec('')!.length < 2) fail('pcrexform: the regex needs a capture group');
    b.addTransform(`pcrexform:${re}`);
  },
};

function transform(name: TransformName, doc: string): KeywordDecl {
  return {
    name,
    value: 'none',
    doc: `transform: ${doc}`,
    parse(_v, b) {
      b.addTransform(name);
    },
  };
}

/** `tls.subject:"…"` / `tls.issuerdn:"…"`: legacy substring match (`!` negates). */
function legacyTlsValue(name: string, buffer: BufferName): KeywordDecl {
  return {
    name,
    value: 'required',
    doc: `legacy: \`[!]"text"\`, ${buffer} contains text`,
    parse(v, b) {
      let t = expectValue(v, name).trim();
      let negated = false;
      if (t.startsWith('!')) {
        negated = true;
        t = t.slice(1).trim();
      }
      const inner = t.startsWith('"') ? stripQuotes(t) : t;
      const c = parseContentValue(`"${inner.replace(/\|/g, '|7c|')}"`, name);
      c.negated = negated;
      if (decodeContent(inner.replace(/\|/g, '|7c|')).length === 0) fail(`${name} is empty`);
      b.addOp(c, buffer);
    },
  };
}

export const BUFFER_KEYWORDS: readonly KeywordDecl[] = [
  ...STICKY.map(([n, a, d]) => sticky(n, a, d)),
  ...MODIFIERS.map(([n, buf]) => modifier(n, buf)),
  ...TRANSFORMS.map(([n, d]) => transform(n, d)),
  pcrexform,
  pktData,
  base64Data,
  base64Decode,
  legacyTlsValue('tls.subject', 'tls.cert_subject'),
  legacyTlsValue('tls.issuerdn', 'tls.cert_issuer'),
];
