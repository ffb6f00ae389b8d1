/**
 * Compares Harrier's EVE http/dns/tls transactions of one capture with what
 * tshark dissects in the same capture, field by field, and explains every
 * difference by a named rule that checks its evidence.
 *
 * Matching: transactions are grouped by flow 5-tuple (tshark: innermost IP
 * and TCP/UDP layer of the frame; Harrier: the EVE record's endpoints).
 * HTTP: request n of a 5-tuple ↔ Harrier's n-th transaction (flows of one
 * 5-tuple in start order, then tx_id), response n ↔ the same transaction's
 * status. DNS: a message ↔ the first unused Harrier record of the same
 * 5-tuple, direction (query/answer), id and name. TLS: one per 5-tuple.
 *
 * Pure functions over text and records; unit-tested in tx-compare.test.ts.
 */
import { createHash } from 'node:crypto';
import { canonicalIp, convKey, endpoint } from '../support/tshark.js';

/** Fields printed per frame (order matters: see parseTxRow). */
export const TX_FIELDS = [
  'frame.protocols',
  'ip.src',
  'ip.dst',
  'ipv6.src',
  'ipv6.dst',
  'tcp.srcport',
  'tcp.dstport',
  'udp.srcport',
  'udp.dstport',
  'http.request',
  'http.response',
  'http.host',
  'http.request.uri',
  'http.response.code',
  'http.user_agent',
  'dns.flags.response',
  'dns.id',
  'dns.qry.name',
  'dns.a',
  'dns.aaaa',
  'dns.count.auth_rr',
  'dns.count.add_rr',
  'tls.handshake.type',
  'tls.handshake.extensions_server_name',
  'tls.handshake.ja3',
  'x509sat.printableString',
  'x509sat.uTF8String',
  'x509sat.teletexString',
  'x509sat.IA5String',
  'x509sat.bmpString',
  'x509sat.universalString',
  '_ws.malformed',
  'tcp.analysis.lost_segment',
  'tcp.len',
  'tcp.reassembled_in',
  'x509sat.CountryName',
  'tcp.flags.syn',
  'tls.handshake.ja3_full',
  'tcp.analysis.out_of_order',
  'http.request.version',
  'dns.qry.class',
] as const;

/** Separator of repeated values (URIs and user agents contain commas). */
export const AGG = '\u001f';

export interface TsTxFrame {
  index: number;
  /** frame.protocols split at ':'. */
  protocols: string[];
  /** convKey of the innermost IP + TCP/UDP layer, '' when the frame has none. */
  key: string;
  /** The frame's source endpoint (tells the direction). */
  src: string;
  httpReqs: { host: string; uri: string; ua: string; frame: number; version: string }[];
  httpResps: string[];
  dns: { response: boolean; id: number; qname: string; qnames: string[]; a: string[]; aaaa: string[]; extra: boolean; classes: number[] } | null;
  clientHello: boolean;
  /** The frame carries a ServerHello. */
  serverHello: boolean;
  sni: string;
  ja3: string;
  /** tshark's JA3 string (tls.handshake.ja3_full) of the frame's ClientHello. */
  ja3Full: string;
  /** The TCP frame has SYN set. */
  syn: boolean;
  /** tshark flagged the TCP frame as out of order. */
  outOfOrder: boolean;
  certStrings: string[];
  /** tshark marked the frame [Malformed Packet]. */
  malformed: boolean;
  /** tshark flagged "previous segment(s) not captured" on this TCP frame (a gap before it in its direction). */
  lostSegment: boolean;
  /** TCP payload bytes of the frame (0 when none or not TCP). */
  tcpLen: number;
  /** tshark used this frame's payload in a PDU it reassembled (tcp.reassembled_in). */
  reassembled: boolean;
}

function vals(s: string | undefined): string[] {
  return s === undefined || s === '' ? [] : s.split(AGG);
}

/** Parses one row of TX_FIELDS (frame `index` within its capture). */
export function parseTxRow(row: string, index: number): TsTxFrame {
  const c = row.split('\t');
  const protos = (c[0] ?? '').split(':');
  let lastIp = '';
  let l4 = '';
  let quoted = false;
  for (const p of protos) {
    if (p === 'ip' || p === 'ipv6') lastIp = p;
    else if (p === 'icmp' || p === 'icmpv6') quoted = true;
    else if ((p === 'tcp' || p === 'udp') && lastIp !== '') l4 = p;
  }
  // tshark dissects the copy of the offending packet quoted inside an ICMP
  // error (HTTP, DNS… included); that copy is no transaction, so the frame
  // gets no key and is left out of the comparison.
  if (quoted) l4 = '';
  const last = (s: string | undefined): string => {
    const v = vals(s);
    return v.length === 0 ? '' : v[v.length - 1];
  };
  let key = '';
  let src = '';
  if (l4 !== '') {
    const sa = lastIp === 'ip' ? last(c[1]) : last(c[3]);
    const da = lastIp === 'ip' ? last(c[2]) : last(c[4]);
    const sp = Number(last(l4 === 'tcp' ? c[5] : c[7]));
    const dp = Number(last(l4 === 'tcp' ? c[6] : c[8]));
    if (sa !== '' && da !== '') {
      src = endpoint(canonicalIp(sa), sp);
      key = convKey(l4 === 'tcp' ? 6 : 17, src, endpoint(canonicalIp(da), dp));
    }
  }
  const hosts = vals(c[11]);
  const uris = vals(c[12]);
  const uas = vals(c[14]);
  const versions = vals(c[39]);
  const httpReqs = vals(c[9]).map((_, i) => ({ host: hosts[i] ?? '', uri: uris[i] ?? '', ua: uas[i] ?? '', frame: index, version: versions[i] ?? '' }));
  const codes = vals(c[13]);
  const httpResps = vals(c[10]).map((_, i) => codes[i] ?? '');
  const ids = vals(c[16]);
  const dns =
    ids.length === 0
      ? null
      : {
          response: vals(c[15])[0] === '1',
          id: parseInt(ids[0], 16),
          qname: vals(c[17])[0] ?? '',
          qnames: vals(c[17]),
          a: vals(c[18]),
          aaaa: vals(c[19]).map(canonicalIp),
          extra: Number(vals(c[20])[0] ?? '0') + Number(vals(c[21])[0] ?? '0') > 0,
          classes: vals(c[40]).map((x) => parseInt(x, 16)),
        };
  const types = vals(c[22]).flatMap((t) => t.split(','));
  const certStrings: string[] = [];
  for (let k = 25; k <= 30; k++) certStrings.push(...vals(c[k]));
  certStrings.push(...vals(c[35])); // C= values are CountryName, not one of the string types
  return {
    index,
    protocols: protos,
    key,
    src,
    httpReqs,
    httpResps,
    dns,
    clientHello: types.includes('1'),
    serverHello: types.includes('2'),
    sni: vals(c[23])[0] ?? '',
    ja3: vals(c[24])[0] ?? '',
    ja3Full: vals(c[37])[0] ?? '',
    syn: (c[36] ?? '') === '1' || (c[36] ?? '') === 'True',
    outOfOrder: (c[38] ?? '') !== '',
    certStrings,
    malformed: (c[31] ?? '') !== '',
    lostSegment: (c[32] ?? '') !== '',
    tcpLen: Number(vals(c[33])[0] ?? '0') || 0,
    reassembled: (c[34] ?? '') !== '',
  };
}

/** An EVE record as the collector holds it. */
export type EveRecord = Record<string, unknown>;

export function eveKey(r: EveRecord): string {
  const proto = r.proto === 'TCP' ? 6 : r.proto === 'UDP' ? 17 : 0;
  return convKey(proto, endpoint(String(r.src_ip), Number(r.src_port ?? 0)), endpoint(String(r.dest_ip), Number(r.dest_port ?? 0)));
}

/** Ports tshark 4.0 dissects as HTTP by default (its `http.tcp.port` range); elsewhere only by heuristics or conversation hand-off. */
export const TSHARK_HTTP_PORTS: ReadonlySet<number> = new Set([80, 3128, 3132, 5985, 8080, 8088, 11371, 1900, 2869, 2710]);

export const WHY = {
  /** Harrier detects HTTP by content; tshark dissects none in that 5-tuple and neither port is one of its HTTP ports. */
  httpPort: 'http: harrier detects by content on a port tshark does not dissect as http',
  /** The capture was refused by Harrier (link type): tshark's transactions have no counterpart. */
  refused: 'capture refused by harrier (link type)',
  /** tshark dns.a / dns.aaaa list A/AAAA records of every section; EVE's grouped answers only the answer section. Checked: the message has authority/additional records and Harrier's set is a subset. */
  dnsSections: 'dns: tshark lists authority/additional addresses too',
  /** tshark shows a TLS field in a 5-tuple where Harrier has no tls record and no flow detected as tls. */
  /** tshark dissects HTTP over UDP (SSDP, port 1900); Harrier's HTTP parser is TCP only, as Suricata's. Checked: the 5-tuple is UDP. */
  httpUdp: 'http: over udp (ssdp), harrier parses http on tcp only',
  /** Harrier's decoder counted the frame in no flow and raised a decoder event on it (snapped or malformed IP); tshark dissects what it has. */
  decoderDrop: 'frame rejected by harrier decoder (decoder event)',
  /** NetBIOS name service (UDP 137) uses DNS's message format: Harrier logs it as dns, tshark dissects it as nbns (no dns.* fields). Checked: tshark shows nbns on the 5-tuple. */
  nbns: 'dns: netbios name service, tshark says nbns',
  /** The root name: tshark prints "<Root>", EVE an empty rrname. */
  dnsRoot: 'dns: root name, tshark "<Root>", eve ""',
  /** Bytes outside printable ASCII in a name: EVE escapes them as \xHH (Suricata), tshark prints the raw bytes. Checked: equal once each escape is one undecodable byte. */
  dnsEscape: 'dns: non-ascii bytes in name, eve \\xHH vs tshark raw',
  /** Control bytes in a name: tshark prints them as \ooo (octal), EVE carries the byte (JSON-escaped \u00XX, as Suricata). Checked: equal once each \ooo is its byte. */
  dnsControl: 'dns: control bytes in name, tshark \\ooo vs eve byte',
  /** A DNS or TLS message inside QUIC (DNS over QUIC, QUIC's TLS ClientHello): tshark dissects it; Harrier's QUIC parser logs quic records, not dns/tls ones. Checked: tshark shows quic on the frame. */
  inQuic: 'dns/tls carried inside quic (harrier logs quic)',
  /** Malformed DNS one side rejects: Harrier raised a dns applayer anomaly on the flow, or tshark marked the frame malformed. */
  dnsMalformed: 'dns: malformed message (harrier anomaly or tshark [Malformed Packet])',
  /** A request line with spaces inside the URI: tshark ends the URI at the first space, libhtp (Suricata, Harrier) at the protocol. Checked: EVE url starts with tshark's uri and a space. */
  uriSpace: 'http: space inside the uri, tshark stops at it',
  /** A NUL byte in a header value: tshark's string ends at the NUL, EVE keeps the bytes. Checked: EVE value starts with tshark's and a NUL. */
  nulInValue: 'http: NUL in a header value, tshark stops at it',
  /** tshark dissects an HTTP response (e.g. 400 Bad Request) answering a client that spoke another protocol (stratum JSON): no request on either side, so no transaction for Harrier, which detects the protocol from what the client sent. Checked: tshark shows no request in the 5-tuple, Harrier no http transaction. */
  /** An interim response (100 Continue, 102, 103): tshark lists it as a response, libhtp (Suricata, Harrier) folds it into the transaction whose final status EVE logs. Counted once per interim response, which is then left out of the pairing. */
  interim: 'http: interim 1xx response folded into the transaction',
  loneResponse: 'http: response to a non-http request (no request on either side)',
  /** A response whose stream has a capture gap: tshark reassembles the body before it dissects the response and never completes it, so it shows none; libhtp (Suricata, Harrier) logs the status from the head and skips gaps inside a known-length body. Checked: tshark flagged "previous segment not captured" on a frame from the server of the 5-tuple. */
  responseGap: 'http: capture gap in the response stream, tshark does not finish reassembling it',
  /** Harrier's transaction holds a response and no request (libhtp's "unable to match response to request": the request was not captured); tshark has no request either. Checked: the EVE record has no http_method and tshark no request at that position. */
  responseOnly: 'http: response-only transaction (request not captured), tshark has no request either',
  /** The server spoke first with an HTTP response (e.g. 400 to nothing) and the client's HTTP request followed: tshark does not dissect the request, Suricata/Harrier log it (protocol detected on the response). Checked: Harrier's first transaction of the 5-tuple is response-only and tshark shows no request in the 5-tuple. */
  /** tshark waited for more of a response PDU than the capture holds (capture ends mid-body): it dissects no response, libhtp (Suricata, Harrier) logs the status from the head. Checked: a frame from the server of the 5-tuple carries payload that tshark neither dissected as HTTP nor used in a finished reassembly. */
  responseUnfinished: 'http: response pdu unfinished at capture end, tshark dissects none',
  /** DTLS (over UDP: WebRTC/STUN, CAPWAP, …): tshark dissects its handshake and certificates; Harrier, like Suricata 7, parses TLS over TCP only. Checked: the 5-tuple is UDP and tshark shows dtls on it. */
  dtls: 'tls: dtls over udp, harrier parses tls over tcp only',
  /** TLS carried inside another protocol's framing (OpenVPN's control channel, RDP over UDP): tshark unwraps it, Harrier (as Suricata) does not parse the wrapper. Checked: tshark shows openvpn or rdpudp on the 5-tuple. */
  tlsWrapped: 'tls: inside openvpn / rdp-udp framing, not parsed by harrier',
  /** Certificate strings from an OCSP response carried over HTTP, not from a TLS handshake. Checked: tshark shows ocsp and no tls on the 5-tuple. */
  ocsp: 'x509: strings of an ocsp response over http, no tls',
  /** TLS after the in-band upgrade of a protocol Harrier does not parse: XMPP STARTTLS, LDAP StartTLS (a Harrier limitation; Suricata 7 follows neither). SMTP, IMAP, POP3, FTP, MySQL and PostgreSQL upgrades are handed to the TLS parser (src/applayer/{smtp,imap,pop3,ftp,mysql,pgsql}), so those protocols are no evidence: a TLS record missing after them is a bug. Checked: tshark shows xmpp or ldap and tls on the same 5-tuple. */
  starttls: 'tls: after starttls of a protocol harrier does not parse (xmpp, ldap), not followed (limitation)',
  /** HTTP or TLS carried after a SOCKS handshake (SOCKS proxy on the 5-tuple): tshark dissects through SOCKS; Harrier, like Suricata 7, has no SOCKS parser and does not find HTTP/TLS behind it. Checked: tshark shows socks on the 5-tuple. */
  socks: 'http/tls behind a socks handshake, harrier does not parse socks',
  /** The transaction rides in a tunnel Harrier does not decode (GTP-U, CAPWAP data): tshark dissects the inner flow, Harrier sees only the outer UDP flow. Checked: tshark shows gtp or capwap.data before the inner IP layer of the 5-tuple's frames. */
  tunnel: 'inner flow of a gtp / capwap-data tunnel harrier does not decode',
  /** tshark's certificate strings all come from a certificate the client sent (mutual TLS, the server sent none in the capture); EVE tls.subject is the server's certificate (Suricata), so Harrier logs none. Checked: every frame with certificate strings was sent by the ClientHello's sender, and the EVE record has no subject. */
  clientCert: 'x509: only a client certificate in the capture, eve subject is the server certificate',
  /** A PROXY protocol header (HAProxy) precedes the TLS bytes: tshark skips it, protocol detection in Suricata 7 and Harrier starts at the first byte of the stream, so the flow is not recognised as tls (Harrier reads the header only for identity, src/k8s/flow-context.ts). Checked: tshark shows proxy on the 5-tuple. */
  proxyHeader: 'tls: after a proxy protocol header, detection sees the header first',
  afterUnsolicited: 'http: request after an unsolicited server response, tshark does not dissect it',
  /** The protocol starts after other bytes on the connection (a gnutella or NoMachine handshake that upgrades in-band to TLS, a SOCKS5 greeting on an unregistered port, a stray byte before a ClientHello): tshark finds it later by heuristics; detection in Suricata and Harrier reads the start of each direction, so the flow is `failed`. Checked: Harrier's flow record of the 5-tuple says app_proto failed, and tshark's first payload frame of the 5-tuple precedes the transaction and is not dissected as that protocol. */
  lateStart: 'http/tls: begins after other bytes on the connection, detection reads the start (flow failed)',
  /** The capture begins inside a TLS handshake (certificates without any hello or SYN on the 5-tuple): tshark dissects the Certificate message; detection in Harrier wants a hello or a post-handshake record (Suricata, whose stream.midstream is off by default, does not pick the session up at all). Checked: no ClientHello, no ServerHello and no SYN on the 5-tuple. */
  midHandshake: 'tls: capture begins inside the handshake (no hello, no syn)',
  /** tshark hashes the JA3 string it could build from a ClientHello cut short (fewer than five fields, e.g. `769,,`); Suricata and Harrier either read the hello without extensions (`…,,,`) or reject it. Checked: tshark's ja3_full has fewer than five fields and its MD5 is tshark's JA3; Harrier's JA3 string extends tshark's, or Harrier has none and raised tls.invalid_handshake_message on the flow. */
  ja3Partial: 'tls: tshark hashes a partial ja3 string of a truncated hello',
  /** The server's stream was picked up inside a response (capture began mid-body): libhtp (Suricata, Harrier) reads the invalid "response line" and everything after it as that response's body, tshark resynchronises on a later status line. Checked: Harrier logged a transaction of the 5-tuple with a response body but no status (or raised http.response_invalid_protocol there), the transaction compared has no status, and tshark's first server payload frame of the 5-tuple is no HTTP response. */
  midResponse: 'http: response stream picked up mid-message, libhtp reads the rest as its body',
  /** tshark did not reassemble the request: the client's segments arrived out of order at capture start and tshark's analysis gave up on them; Harrier's reassembly orders them. Checked: tshark shows no request on the 5-tuple, flagged a payload frame of the client out of order or after a gap, and its response at that position has the status Harrier's transaction has. */
  requestDisordered: 'http: request segments out of order, tshark does not reassemble them',
  /** tshark waited for more of a request PDU than the capture holds (a head cut by a truncated frame or by the end of the capture): it dissects no request; libhtp (Suricata, Harrier) logs the transaction with what arrived when the flow ends. Checked: tshark shows no request on the 5-tuple, and a frame from the client of Harrier's transaction carries payload that tshark neither dissected as HTTP nor used in a finished reassembly. */
  requestUnfinished: 'http: request pdu unfinished (truncated frame or capture end), tshark dissects none',
  /** A request method tshark's HTTP dissector does not know (nmap's random `XFOC`): libhtp (Suricata, Harrier) accepts any token as the method. Checked: the method is not one of the registered methods tshark recognises, and tshark has no request on the 5-tuple. */
  unknownMethod: 'http: request method unknown to tshark (libhtp accepts any token)',
  /** Several spaces between method and URI: tshark takes the URI to end at the second space (empty) and the rest as the version; libhtp skips the extra whitespace. Checked: tshark's uri is empty and its version is EVE's url, a space and EVE's protocol. */
  methodSpaces: 'http: several spaces after the method, tshark uri empty',
  /** A question name with a label of the retired extended types (0x40/0x80, RFC 6891): tshark prints "<Unknown extended label>", Suricata's and Harrier's name parsers reject the name. Checked: tshark's name carries that marker. */
  dnsExtLabel: 'dns: extended label type in name, rejected (tshark "<Unknown extended label>")',
  /** A (fuzzed) query with an unassigned class: Harrier's DNS detection requires the first question's class to be IN, CH, HS, NONE or ANY (src/applayer/dns/probe.ts; noise on odd ports), so a flow opened by it is not DNS. Checked: a message of the same 5-tuple, id and name has such a class in tshark. */
  dnsClass: 'dns: class not assigned (fuzzed), detection refuses the first message',
  /** An inverse query (opcode 1) has no question: EVE logs one query record per question, so none; its answer is logged. Checked: tshark's query has no question name and Harrier logged a record of the same id on the 5-tuple. */
  dnsNoQuestion: 'dns: query without a question (inverse query), eve logs one record per question',
} as const;

/** Request methods tshark's HTTP dissector recognises (RFC 9110, WebDAV, SSDP/GENA, RTSP-like and Microsoft RPC-over-HTTP extensions). */
export const TSHARK_HTTP_METHODS: ReadonlySet<string> = new Set([
  'GET', 'POST', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT', 'PATCH',
  'PROPFIND', 'PROPPATCH', 'MKCOL', 'COPY', 'MOVE', 'LOCK', 'UNLOCK', 'SEARCH', 'REPORT', 'CHECKOUT', 'CHECKIN', 'MERGE', 'MKACTIVITY', 'MKWORKSPACE', 'VERSION-CONTROL', 'BASELINE-CONTROL', 'LABEL', 'UNCHECKOUT', 'UPDATE', 'ACL', 'BIND', 'UNBIND', 'REBIND', 'ORDERPATCH', 'MKCALENDAR', 'MKREDIRECTREF', 'UPDATEREDIRECTREF',
  'NOTIFY', 'M-SEARCH', 'SUBSCRIBE', 'UNSUBSCRIBE', 'POLL', 'BCOPY', 'BDELETE', 'BMOVE', 'BPROPFIND', 'BPROPPATCH',
  'RPC_IN_DATA', 'RPC_OUT_DATA', 'RPC_CONNECT', 'CCM_POST', 'SSTP_DUPLEX_POST', 'PURGE', 'LINK', 'UNLINK',
]);

export interface FieldTally {
  compared: number;
  equal: number;
  explained: Map<string, number>;
}

export interface TxResult {
  fields: Map<string, FieldTally>;
  unexplained: string[];
}

export function newResult(): TxResult {
  return { fields: new Map(), unexplained: [] };
}

function tally(res: TxResult, field: string): FieldTally {
  let t = res.fields.get(field);
  if (t === undefined) {
    t = { compared: 0, equal: 0, explained: new Map() };
    res.fields.set(field, t);
  }
  return t;
}

function explain(res: TxResult, field: string, why: string): void {
  const t = tally(res, field);
  t.explained.set(why, (t.explained.get(why) ?? 0) + 1);
}

/** Records one comparison of a field: equal, or explained by `why`, or unexplained (`why` null). */
function record(res: TxResult, field: string, equal: boolean, why: string | null, what: () => string): void {
  const t = tally(res, field);
  t.compared++;
  if (equal) t.equal++;
  else if (why !== null) explain(res, field, why);
  else res.unexplained.push(`${field}: ${what()}`);
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v);
}

function groupBy<T>(items: Iterable<T>, key: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const it of items) {
    const k = key(it);
    const l = m.get(k);
    if (l === undefined) m.set(k, [it]);
    else l.push(it);
  }
  return m;
}

/** HTTP transactions of one 5-tuple in order: flows by their first record's timestamp, then tx_id. */
function orderTx(recs: EveRecord[]): EveRecord[] {
  const byFlow = groupBy(recs, (r) => str(r.flow_id));
  const flows = [...byFlow.values()].map((l) => l.slice().sort((a, b) => Number(a.tx_id) - Number(b.tx_id)));
  flows.sort((a, b) => (str(a[0].timestamp) < str(b[0].timestamp) ? -1 : 1));
  return flows.flat();
}

function portsOf(key: string): number[] {
  return key
    .split(' ')
    .slice(1)
    .map((e) => Number(e.slice(e.lastIndexOf(':') + 1)));
}

export interface CaptureInfo {
  name: string;
  /** Harrier refused the capture (link type). */
  refused: boolean;
  /** Decoder events of frame i when Harrier counted it in no flow, else null. */
  dropped?: (frame: number) => string | null;
}

/** Whether EVE's rrname `h` names tshark's `t`: null when not, '' when equal, else the rule that explains the spelling. */
export function nameWhy(h: string, t: string): string | null {
  if (h.toLowerCase() === t.toLowerCase()) return '';
  if (t === '<Root>' && h === '') return WHY.dnsRoot;
  // tshark's raw bytes reach us as UTF-8 text: undecodable ones as U+FFFD, valid sequences as one character; compare the ASCII.
  // tshark escapes control bytes as \ooo (octal); EVE carries the byte itself (JSON \u00XX)
  if (/\\[0-7]{3}/.test(t) && /[\x00-\x1f\x7f]/.test(h) && t.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))).toLowerCase() === h.toLowerCase()) return WHY.dnsControl;
  if (/\\x[0-9a-f]{2}/i.test(h) && /[^\x00-\x7f]/.test(t) && h.replace(/\\x[0-9a-f]{2}/gi, '') === t.replace(/[^\x00-\x7f]/g, '')) return WHY.dnsEscape;
  return null;
}

/** Compares one capture's tshark frames with Harrier's EVE records into `res`. */
export function compareTransactions(cap: CaptureInfo, frames: readonly TsTxFrame[], eve: readonly EveRecord[], res: TxResult): void {
  const at = (k: string): string => `${cap.name} ${k}`;
  const dropped = (i: number): string | null => (cap.dropped === undefined ? null : cap.dropped(i));
  const protosOf = new Map<string, Set<string>>();
  for (const f of frames) {
    if (f.key === '') continue;
    let ps = protosOf.get(f.key);
    if (ps === undefined) protosOf.set(f.key, (ps = new Set()));
    for (const p of f.protocols) ps.add(p);
  }
  // Per 5-tuple: the first frame carrying TCP payload (overall and per sender), whether a SYN was seen,
  // the senders of payload tshark saw out of order or after a gap.
  const firstPayload = new Map<string, TsTxFrame>();
  const firstPayloadFrom = new Map<string, TsTxFrame>();
  const synOn = new Set<string>();
  const disorderFrom = new Map<string, Set<string>>();
  for (const f of frames) {
    if (f.key === '') continue;
    if (f.syn) synOn.add(f.key);
    if (f.tcpLen <= 0) continue;
    if (!firstPayload.has(f.key)) firstPayload.set(f.key, f);
    const fk = `${f.key}|${f.src}`;
    if (!firstPayloadFrom.has(fk)) firstPayloadFrom.set(fk, f);
    if ((f.outOfOrder || f.lostSegment) && !f.protocols.includes('http')) {
      let d = disorderFrom.get(f.key);
      if (d === undefined) disorderFrom.set(f.key, (d = new Set()));
      d.add(f.src);
    }
  }
  // Harrier's side: 5-tuples whose flow record says app_proto failed, anomaly events per 5-tuple.
  const failedFlows = new Set<string>();
  const anomaliesOn = new Map<string, Set<string>>();
  for (const r of eve) {
    if (r.event_type === 'flow' && r.app_proto === 'failed') failedFlows.add(eveKey(r));
    if (r.event_type === 'anomaly') {
      const k = eveKey(r);
      let a = anomaliesOn.get(k);
      if (a === undefined) anomaliesOn.set(k, (a = new Set()));
      a.add(str(((r.anomaly ?? {}) as Record<string, unknown>).event));
    }
  }
  /** The `proto` transaction at tshark frame `frame` starts after other bytes of the 5-tuple, on a flow Harrier left failed. */
  const lateStart = (k: string, proto: string, frame: number): boolean => {
    const fp = firstPayload.get(k);
    return failedFlows.has(k) && fp !== undefined && fp.index < frame && !fp.protocols.includes(proto);
  };
  // ---- HTTP
  const tsReq = new Map<string, { host: string; uri: string; ua: string; frame: number; version: string }[]>();
  const tsResp = new Map<string, { code: string; frame: number }[]>();
  for (const f of frames) {
    if (f.key === '') continue;
    if (f.httpReqs.length > 0) tsReq.set(f.key, [...(tsReq.get(f.key) ?? []), ...f.httpReqs]);
    if (f.httpResps.length > 0) tsResp.set(f.key, [...(tsResp.get(f.key) ?? []), ...f.httpResps.map((code) => ({ code, frame: f.index }))]);
  }
  const addTo = (m: Map<string, Set<string>>, k: string, v: string): void => {
    let l = m.get(k);
    if (l === undefined) m.set(k, (l = new Set()));
    l.add(v);
  };
  // per 5-tuple, the endpoints that sent a frame after a capture gap / payload tshark left pending
  const lostFrom = new Map<string, Set<string>>();
  const pendingFrom = new Map<string, Set<string>>();
  for (const f of frames) {
    if (f.key === '') continue;
    if (f.lostSegment) addTo(lostFrom, f.key, f.src);
    if (f.tcpLen > 0 && !f.reassembled && !f.protocols.includes('http')) addTo(pendingFrom, f.key, f.src);
  }
  const hHttp = groupBy(
    eve.filter((r) => r.event_type === 'http'),
    eveKey,
  );
  const httpKeys = new Set([...tsReq.keys(), ...tsResp.keys(), ...hHttp.keys()]);
  for (const k of httpKeys) {
    const reqs = tsReq.get(k) ?? [];
    const resps = (tsResp.get(k) ?? []).filter((r) => {
      const c = Number(r.code);
      if (c < 100 || c > 199 || c === 101) return true;
      record(res, 'http.response.code', false, WHY.interim, () => '');
      return false;
    });
    const txs = orderTx(hHttp.get(k) ?? []);
    const tsNone = reqs.length === 0 && resps.length === 0;
    const portWhy = tsNone && portsOf(k).every((p) => !TSHARK_HTTP_PORTS.has(p)) ? WHY.httpPort : null;
    const refusedWhy = cap.refused && txs.length === 0 ? WHY.refused : null;
    // Why tshark has a request or response Harrier lacks.
    const kps = protosOf.get(k);
    const missWhy = (frame: number): string | null =>
      refusedWhy ??
      (k.startsWith('17 ') ? WHY.httpUdp : dropped(frame) !== null ? WHY.decoderDrop : kps?.has('socks') === true ? WHY.socks : kps !== undefined && (kps.has('gtp') || kps.has('capwap.data')) ? WHY.tunnel : lateStart(k, 'http', frame) ? WHY.lateStart : null);
    // a transaction without a request: neither method nor url (libhtp logs both for every request it parsed)
    const noMethod = (t: EveRecord | undefined): boolean => {
      const h = (t?.http ?? {}) as Record<string, unknown>;
      return t !== undefined && str(h.http_method) === '' && str(h.url) === '';
    };
    // Harrier's first transaction answers nothing: the server spoke first
    const unsolicited = reqs.length === 0 && noMethod(txs[0]);
    // tshark's requests pair with Harrier's transactions that have a request; a response-only one
    // (libhtp: "unable to match response to request") is counted on its own.
    for (const t of txs) {
      if (noMethod(t)) record(res, 'http.request', false, portWhy ?? WHY.responseOnly, () => '');
    }
    const reqTxs = txs.filter((t) => !noMethod(t));
    const n = Math.max(reqs.length, reqTxs.length);
    for (let i = 0; i < n; i++) {
      const q = reqs[i];
      const t = reqTxs[i];
      const h = (t?.http ?? {}) as Record<string, unknown>;
      if (q === undefined || t === undefined) {
        const client = t === undefined ? '' : endpoint(canonicalIp(str(t.src_ip)), Number(t.src_port ?? 0));
        const status = str(h.status);
        const notSeenWhy =
          reqs.length > 0
            ? null
            : !TSHARK_HTTP_METHODS.has(str(h.http_method).toUpperCase())
              ? WHY.unknownMethod
              : disorderFrom.get(k)?.has(client) === true && status !== '' && resps[txs.indexOf(t as EveRecord)]?.code === status
                ? WHY.requestDisordered
                : pendingFrom.get(k)?.has(client) === true
                  ? WHY.requestUnfinished
                  : null;
        const why = q === undefined ? (portWhy ?? (unsolicited ? WHY.afterUnsolicited : notSeenWhy)) : missWhy(q.frame);
        record(res, 'http.request', false, why, () => `${at(k)} request #${i}: tshark ${q === undefined ? 'none' : q.uri}, harrier ${t === undefined ? 'none' : str(h.url)}`);
        continue;
      }
      record(res, 'http.request', true, null, () => '');
      // tshark's http.host is the Host header as sent (with a port if any); EVE hostname drops the port (Suricata).
      const host = q.host.replace(/:\d+$/, '');
      const hn = str(h.hostname);
      record(res, 'http.host', host === hn, hn.startsWith(`${host}\u0000`) ? WHY.nulInValue : null, () => `${at(k)} #${i}: tshark ${JSON.stringify(q.host)}, harrier ${JSON.stringify(h.hostname)}`);
      const uriWhy =
        q.uri !== '' && str(h.url).startsWith(`${q.uri} `)
          ? WHY.uriSpace
          : q.uri === '' && str(h.url) !== '' && q.version === `${str(h.url)} ${str(h.protocol)}`
            ? WHY.methodSpaces
            : null;
      record(res, 'http.request.uri', q.uri === str(h.url), uriWhy, () => `${at(k)} #${i}: tshark ${JSON.stringify(q.uri)}, harrier ${JSON.stringify(h.url)}`);
      record(res, 'http.user_agent', q.ua === str(h.http_user_agent), null, () => `${at(k)} #${i}: tshark ${JSON.stringify(q.ua)}, harrier ${JSON.stringify(h.http_user_agent)}`);
    }
    // Harrier read server bytes with no status line as a response body (or flagged the status line invalid)
    const readAsBody =
      anomaliesOn.get(k)?.has('http.response_invalid_protocol') === true ||
      txs.some((t) => {
        const h = (t.http ?? {}) as Record<string, unknown>;
        return str(h.status) === '' && Number(h.length ?? 0) > 0;
      });
    for (let i = 0; i < Math.max(resps.length, txs.length); i++) {
      const code = resps[i]?.code;
      const t = txs[i];
      const status = t === undefined ? '' : str(((t.http ?? {}) as Record<string, unknown>).status);
      if (code === undefined && status === '') continue; // neither saw a response
      const lone = reqs.length === 0 && txs.length === 0 ? WHY.loneResponse : null;
      const server = t === undefined ? '' : endpoint(canonicalIp(str(t.dest_ip)), Number(t.dest_port ?? 0));
      const gapWhy =
        code === undefined ? (lostFrom.get(k)?.has(server) === true ? WHY.responseGap : pendingFrom.get(k)?.has(server) === true ? WHY.responseUnfinished : null) : null;
      // the server's stream began inside a response: libhtp took it all as one body
      const serverFirst = firstPayloadFrom.get(`${k}|${server}`);
      const midWhy = status === '' && readAsBody && serverFirst !== undefined && serverFirst.httpResps.length === 0 ? WHY.midResponse : null;
      record(res, 'http.response.code', code === status, code === undefined ? (portWhy ?? gapWhy) : t === undefined ? (missWhy(resps[i].frame) ?? lone) : midWhy, () => `${at(k)} #${i}: tshark ${code ?? 'none'}, harrier ${status || 'none'}`);
    }
  }
  // ---- DNS
  const hDns = groupBy(
    eve.filter((r) => r.event_type === 'dns'),
    eveKey,
  );
  const used = new Set<EveRecord>();
  const dnsAnomaly = new Set<string>();
  for (const r of eve) if (r.event_type === 'anomaly' && r.app_proto === 'dns') dnsAnomaly.add(eveKey(r));
  const tsMalformed = new Set<string>();
  for (const f of frames) if (f.dns !== null && f.malformed) tsMalformed.add(f.key);
  // messages (5-tuple, id, first name) of which tshark shows one with a class Harrier's DNS detection refuses
  const refusedClass = new Set<string>();
  for (const f of frames) {
    const c = f.dns?.classes[0];
    if (f.dns === null || c === undefined || Number.isNaN(c)) continue;
    const m = c & 0x7fff;
    if (m !== 1 && m !== 3 && m !== 4 && m !== 254 && m !== 255) refusedClass.add(`${f.key}|${f.dns.id}|${f.dns.qname}`);
  }
  for (const f of frames) {
    if (f.dns === null || f.key === '') continue;
    const d = f.dns;
    const cands = hDns.get(f.key) ?? [];
    // A query logs one EVE record per question (mDNS asks several at once); a response one record, named by its first question.
    const names = d.response || d.qnames.length === 0 ? [d.qname] : d.qnames;
    let m: EveRecord | undefined;
    for (const qn of names) {
      m = cands.find((r) => {
        if (used.has(r)) return false;
        const x = (r.dns ?? {}) as Record<string, unknown>;
        return Number(x.id) === d.id && (x.type === 'answer') === d.response && nameWhy(str(x.rrname), qn) !== null;
      });
      if (m === undefined) {
        const why = cap.refused
          ? WHY.refused
          : dropped(f.index) !== null
            ? WHY.decoderDrop
            : f.protocols.includes('quic')
              ? WHY.inQuic
              : f.malformed || dnsAnomaly.has(f.key)
                ? WHY.dnsMalformed
                : qn.includes('<Unknown extended label>')
                  ? WHY.dnsExtLabel
                  : refusedClass.has(`${f.key}|${d.id}|${qn}`)
                    ? WHY.dnsClass
                    : !d.response && d.qnames.length === 0 && cands.some((r) => Number(((r.dns ?? {}) as Record<string, unknown>).id) === d.id)
                      ? WHY.dnsNoQuestion
                      : null;
        record(res, 'dns.qry.name', false, why, () => `${at(f.key)} frame ${f.index + 1} ${d.response ? 'response' : 'query'} id ${d.id} ${JSON.stringify(qn)}: no harrier record`);
        continue;
      }
      used.add(m);
      const nw = nameWhy(str(((m.dns ?? {}) as Record<string, unknown>).rrname), qn);
      record(res, 'dns.qry.name', nw === '', nw === '' ? null : nw, () => '');
    }
    if (m === undefined) continue;
    if (!d.response) continue;
    const grouped = (((m.dns ?? {}) as Record<string, unknown>).grouped ?? {}) as Record<string, unknown>;
    for (const [field, ts, ev] of [
      ['dns.a', d.a, grouped.A],
      ['dns.aaaa', d.aaaa, grouped.AAAA],
    ] as const) {
      const hv = (Array.isArray(ev) ? ev.map(str) : []).map((a) => (field === 'dns.aaaa' ? canonicalIp(a) : a));
      if (ts.length === 0 && hv.length === 0) continue;
      const eq = ts.length === hv.length && ts.every((a, i) => a === hv[i]);
      const subset = hv.every((a) => ts.includes(a));
      const why = eq ? null : d.extra && subset ? WHY.dnsSections : null;
      record(res, field, eq, why, () => `${at(f.key)} frame ${f.index + 1} id ${d.id}: tshark ${ts.join(' ')}, harrier ${hv.join(' ')}`);
    }
  }
  for (const [k, l] of hDns) {
    for (const r of l) {
      if (used.has(r)) continue;
      const x = (r.dns ?? {}) as Record<string, unknown>;
      const ps = protosOf.get(k);
      const why = ps?.has('nbns') === true ? WHY.nbns : dnsAnomaly.has(k) || tsMalformed.has(k) ? WHY.dnsMalformed : null;
      record(res, 'dns.qry.name', false, why, () => `${at(k)} harrier ${str(x.type)} id ${str(x.id)} ${JSON.stringify(x.rrname)}: not in tshark`);
    }
  }
  // ---- TLS
  const tsTls = new Map<
    string,
    { sni: string; ja3: string; ja3Full: string; certs: Set<string>; hello: boolean; serverHello: boolean; first: number; quic: boolean; client: string; clientCerts: boolean; otherCerts: boolean }
  >();
  const serverHelloOn = new Set<string>();
  for (const f of frames) if (f.key !== '' && f.serverHello) serverHelloOn.add(f.key);
  for (const f of frames) {
    if (f.key === '') continue;
    if (!f.clientHello && f.certStrings.length === 0) continue;
    let s = tsTls.get(f.key);
    if (s === undefined) tsTls.set(f.key, (s = { sni: '', ja3: '', ja3Full: '', certs: new Set(), hello: false, serverHello: serverHelloOn.has(f.key), first: f.index, quic: false, client: '', clientCerts: false, otherCerts: false }));
    if (f.protocols.includes('quic')) s.quic = true;
    if (f.clientHello && !s.hello) {
      s.hello = true;
      s.sni = f.sni;
      s.ja3 = f.ja3;
      s.ja3Full = f.ja3Full;
      s.client = f.src;
    }
    if (f.certStrings.length > 0) {
      // who sent the certificate: the ClientHello's sender (a client certificate) or not
      if (s.hello && f.src === s.client) s.clientCerts = true;
      else s.otherCerts = true;
    }
    for (const c of f.certStrings) s.certs.add(c);
  }
  const hTls = groupBy(
    eve.filter((r) => r.event_type === 'tls'),
    eveKey,
  );
  for (const [k, s] of tsTls) {
    const t = hTls.get(k)?.[0];
    const x = (t?.tls ?? {}) as Record<string, unknown>;
    const ps = protosOf.get(k) ?? new Set<string>();
    const why =
      t === undefined
        ? cap.refused
          ? WHY.refused
          : s.quic
            ? WHY.inQuic
            : ps.has('proxy')
              ? WHY.proxyHeader
            : ps.has('socks')
              ? WHY.socks
              : ps.has('gtp') || ps.has('capwap.data')
                ? WHY.tunnel
            : k.startsWith('17 ') && ps.has('dtls')
              ? WHY.dtls
              : ps.has('openvpn') || ps.has('rdpudp')
                ? WHY.tlsWrapped
                : ps.has('ocsp') && !ps.has('tls')
                  ? WHY.ocsp
                  : ps.has('tls') && (ps.has('xmpp') || ps.has('ldap'))
                    ? WHY.starttls
                    : lateStart(k, 'tls', s.first)
                      ? WHY.lateStart
                      : !s.hello && !s.serverHello && !synOn.has(k)
                        ? WHY.midHandshake
                        : null
        : null;
    if (s.hello) {
      if (s.sni !== '' || str(x.sni) !== '') record(res, 'tls.sni', s.sni === str(x.sni), why, () => `${at(k)}: tshark ${JSON.stringify(s.sni)}, harrier ${t === undefined ? 'no tls record' : JSON.stringify(x.sni)}`);
      const ja3 = str(((x.ja3 ?? {}) as Record<string, unknown>).hash);
      const ja3Str = str(((x.ja3 ?? {}) as Record<string, unknown>).string);
      // tshark's JA3 of a hello cut short: fewer than five fields, hashed as they are
      const partial = s.ja3Full !== '' && s.ja3Full.split(',').length < 5 && createHash('md5').update(s.ja3Full, 'latin1').digest('hex') === s.ja3;
      const partialWhy =
        partial && (ja3Str.startsWith(s.ja3Full) || (ja3 === '' && anomaliesOn.get(k)?.has('tls.invalid_handshake_message') === true)) ? WHY.ja3Partial : null;
      if (s.ja3 !== '' || ja3 !== '') record(res, 'tls.ja3', s.ja3 === ja3, why ?? partialWhy, () => `${at(k)}: tshark ${s.ja3 || 'none'}, harrier ${t === undefined ? 'no tls record' : ja3 || 'none'}`);
    }
    if (s.certs.size > 0) {
      // tshark gives the strings of every certificate in the chain without saying which name they belong to: Harrier's subject CN must be one of them.
      const subject = str(x.subject);
      const cn = /(?:^|, )CN=(.*?)(?:, [A-Za-z]+=|$)/.exec(subject)?.[1] ?? '';
      // a subject without CN (e.g. C, ST, O only): every one of its values must be among the strings
      const rdns = cn === '' && subject !== '' ? subject.split(/, (?=[A-Za-z]+=)/).map((r) => r.slice(r.indexOf('=') + 1)) : [];
      const eq = cn !== '' ? s.certs.has(cn) : rdns.length > 0 && rdns.every((v) => s.certs.has(v));
      const certWhy = why ?? (t !== undefined && subject === '' && s.clientCerts && !s.otherCerts ? WHY.clientCert : null);
      record(res, 'x509.subject.cn', eq, certWhy, () => `${at(k)}: harrier subject ${t === undefined ? 'no tls record' : JSON.stringify(x.subject)} not among tshark's ${[...s.certs].slice(0, 4).join(' | ')}`);
    }
  }
}
