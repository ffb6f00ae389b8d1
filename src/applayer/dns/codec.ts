/**
 * DNS message codec (RFC 1035 and successors): `decodeDnsMessage` and its
 * inverse `encodeDnsMessage`, in the dns-packet / protobuf.js style — a
 * cursor over a Buffer, every read bounds-checked, failures returned as a
 * named `DnsDecodeError` (never thrown).
 *
 * Decoded: header and flags (qr aa tc rd ra z ad cd, opcode, rcode extended by
 * EDNS), questions, and resource records of all four sections with rdata for
 * A AAAA CNAME NS PTR MX TXT SRV SOA NULL OPT SVCB HTTPS; anything else is
 * kept as raw rdata. Names are in Suricata's presentation (labels joined by
 * '.', root = '', bytes >= 0x80 as `\xhh` unless valid UTF-8): that is what
 * EVE and rules see.
 *
 * Errors in the answer section (or before it) fail the whole message, as
 * they do in Suricata; an error in the authority or additional section keeps
 * what was decoded before it and sets `partial` (Suricata raises
 * `dns.invalid_authorities` / `dns.invalid_additionals` and still logs).
 *
 * Cost: one object per message, question and record and one string per name;
 * no intermediate strings or slices (see name.ts). Measured figures are in
 * test/applayer/dns-codec.test.ts output and the report of issue 4.
 */
import { formatIpv4, formatIpv6, parseIpv6 } from './address.js';
import { NameError, NameWriter, nameResult, readName, beginMessage } from './name.js';
import { bytesToText } from './text.js';

export const DNS_HEADER_LEN = 12;
/** Largest DNS message (UDP datagram payload or TCP length prefix). */
export const DNS_MAX_MESSAGE = 65535;

export const enum RrType {
  A = 1,
  NS = 2,
  CNAME = 5,
  SOA = 6,
  NULL = 10,
  PTR = 12,
  MX = 15,
  TXT = 16,
  AAAA = 28,
  SRV = 33,
  OPT = 41,
  SVCB = 64,
  HTTPS = 65,
  ANY = 255,
}

export const enum Opcode {
  QUERY = 0,
  IQUERY = 1,
  STATUS = 2,
  NOTIFY = 4,
  UPDATE = 5,
  DSO = 6,
}

export type DnsErrorCode =
  /** The message ends inside a header, name, record or rdata. */
  | 'truncated'
  /** A name is longer than 255 octets on the wire. */
  | 'name_too_long'
  /** A compression pointer revisits an offset already followed in the same name. */
  | 'pointer_loop'
  /** More compression pointers in one name (or one message) than any legal one needs. */
  | 'too_many_pointers'
  /** A compression pointer points outside the message. */
  | 'bad_pointer'
  /** A label length byte with the reserved 0x40/0x80 bits. */
  | 'bad_label_type'
  /** rdata length does not fit its type (a name overrunning rdata, SOA fields missing, …). */
  | 'rdata_length'
  /** rdata fields are inconsistent (SVCB parameter or EDNS option overruns). */
  | 'bad_rdata';

export type DnsSection = 'header' | 'question' | 'answer' | 'authority' | 'additional';

/** A decode failure: what, where (byte offset from the message start) and in which section. */
export class DnsDecodeError {
  constructor(
    readonly code: DnsErrorCode,
    readonly offset: number,
    readonly section: DnsSection,
  ) {}
  get message(): string {
    return `DNS ${this.code} in ${this.section} at offset ${this.offset}`;
  }
}

export function isDnsDecodeError(v: DnsMessage | DnsDecodeError): v is DnsDecodeError {
  return v instanceof DnsDecodeError;
}

export interface DnsQuestion {
  readonly name: string;
  readonly type: number;
  /** Class as on the wire (mDNS puts its unicast-response bit in 0x8000). */
  readonly class: number;
}

export interface DnsRdataA { readonly kind: 'a'; readonly address: string }
/** `address` in RFC 5952 form. */
export interface DnsRdataAaaa { readonly kind: 'aaaa'; readonly address: string }
/** CNAME, NS, PTR (the record's type says which). */
export interface DnsRdataName { readonly kind: 'name'; readonly name: string }
export interface DnsRdataMx { readonly kind: 'mx'; readonly preference: number; readonly exchange: string }
export interface DnsRdataTxt { readonly kind: 'txt'; readonly strings: readonly string[] }
export interface DnsRdataSrv {
  readonly kind: 'srv';
  readonly priority: number;
  readonly weight: number;
  readonly port: number;
  readonly target: string;
}
export interface DnsRdataSoa {
  readonly kind: 'soa';
  readonly mname: string;
  readonly rname: string;
  readonly serial: number;
  readonly refresh: number;
  readonly retry: number;
  readonly expire: number;
  readonly minimum: number;
}
export interface DnsEdnsOption { readonly code: number; readonly data: Buffer }
/** EDNS(0) pseudo-record (RFC 6891): fields come from the record's class and TTL. */
export interface DnsRdataOpt {
  readonly kind: 'opt';
  readonly udpSize: number;
  /** Upper 8 bits of the 12-bit rcode. */
  readonly extRcode: number;
  readonly version: number;
  readonly dnssecOk: boolean;
  /** The 15 remaining flag bits (must be zero today). */
  readonly z: number;
  readonly options: readonly DnsEdnsOption[];
}
/** SVCB (64) and HTTPS (65) service bindings (RFC 9460). */
export interface DnsRdataSvcb {
  readonly kind: 'svcb';
  readonly priority: number;
  readonly target: string;
  readonly mandatory?: readonly number[];
  readonly alpn?: readonly string[];
  readonly noDefaultAlpn?: boolean;
  readonly port?: number;
  readonly ipv4hint?: readonly string[];
  readonly ech?: Buffer;
  readonly ipv6hint?: readonly string[];
  /** Parameters with other keys, value bytes as on the wire. */
  readonly other?: readonly { readonly key: number; readonly value: Buffer }[];
}
/** NULL and every type not decoded above. */
export interface DnsRdataRaw { readonly kind: 'raw'; readonly data: Buffer }

export type DnsRdata =
  | DnsRdataA
  | DnsRdataAaaa
  | DnsRdataName
  | DnsRdataMx
  | DnsRdataTxt
  | DnsRdataSrv
  | DnsRdataSoa
  | DnsRdataOpt
  | DnsRdataSvcb
  | DnsRdataRaw;

export interface DnsRecord {
  readonly name: string;
  readonly type: number;
  /** Class as on the wire (for OPT: the UDP payload size). */
  readonly class: number;
  /** TTL as on the wire, unsigned (for OPT: extended rcode, version and flags). */
  readonly ttl: number;
  readonly data: DnsRdata;
}

export interface DnsMessage {
  readonly id: number;
  /** The 16 flag bits of the header as on the wire (EVE `flags` is this in hex). */
  readonly flags: number;
  readonly qr: boolean;
  readonly opcode: number;
  readonly aa: boolean;
  readonly tc: boolean;
  readonly rd: boolean;
  readonly ra: boolean;
  /** The reserved bit (0x0040); set is an anomaly (`dns.z_flag_set`). */
  readonly z: boolean;
  readonly ad: boolean;
  readonly cd: boolean;
  /** 12-bit rcode: header's 4 bits plus the OPT record's extended bits when present. */
  readonly rcode: number;
  readonly questions: readonly DnsQuestion[];
  readonly answers: readonly DnsRecord[];
  readonly authorities: readonly DnsRecord[];
  readonly additionals: readonly DnsRecord[];
  /** The first OPT record of the additional section, if any. */
  readonly edns?: DnsRdataOpt;
  /** Set when the authority or additional section was malformed; the sections before it are complete. */
  readonly partial?: DnsDecodeError;
  /** Bytes left after the last section (0 for well-formed messages). */
  readonly trailing: number;
}

// ---------------------------------------------------------------- decoding

const RDATA_LENGTH = -10;
const BAD_RDATA = -11;

function errorCode(e: number): DnsErrorCode {
  switch (e) {
    case NameError.NAME_TOO_LONG: return 'name_too_long';
    case NameError.POINTER_LOOP: return 'pointer_loop';
    case NameError.TOO_MANY_POINTERS: return 'too_many_pointers';
    case NameError.BAD_POINTER: return 'bad_pointer';
    case NameError.BAD_LABEL_TYPE: return 'bad_label_type';
    case RDATA_LENGTH: return 'rdata_length';
    case BAD_RDATA: return 'bad_rdata';
    default: return 'truncated';
  }
}

const u16 = (b: Buffer, p: number): number => (b[p] << 8) | b[p + 1];
const u32 = (b: Buffer, p: number): number => ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;

/** Where the last failing read happened (for DnsDecodeError.offset). */
let failAt = 0;
/** The record decoded by the last successful readRecord. */
let recordResult: DnsRecord | null = null;

/** Decode a name that must end inside rdata; returns new position or negative error. */
function rdName(buf: Buffer, ms: number, me: number, p: number, rdEnd: number): number {
  const r = readName(buf, ms, me, p);
  if (r < 0) return r;
  return r > rdEnd ? RDATA_LENGTH : r;
}

function readSvcb(buf: Buffer, ms: number, me: number, p: number, rdEnd: number): DnsRdataSvcb | number {
  if (p + 2 > rdEnd) return RDATA_LENGTH;
  const priority = u16(buf, p);
  const r = rdName(buf, ms, me, p + 2, rdEnd);
  if (r < 0) return r;
  const rd: {
    kind: 'svcb'; priority: number; target: string; mandatory?: number[]; alpn?: string[]; noDefaultAlpn?: boolean;
    port?: number; ipv4hint?: string[]; ech?: Buffer; ipv6hint?: string[]; other?: { key: number; value: Buffer }[];
  } = { kind: 'svcb', priority, target: nameResult };
  p = r;
  while (p < rdEnd) {
    if (p + 4 > rdEnd) return BAD_RDATA;
    const key = u16(buf, p);
    const vlen = u16(buf, p + 2);
    const v = p + 4;
    const vend = v + vlen;
    if (vend > rdEnd) return BAD_RDATA;
    switch (key) {
      case 0: {
        if (vlen & 1) return BAD_RDATA;
        const keys: number[] = [];
        for (let i = v; i < vend; i += 2) keys.push(u16(buf, i));
        rd.mandatory = keys;
        break;
      }
      case 1: {
        const ids: string[] = [];
        for (let i = v; i < vend; ) {
          const l = buf[i];
          if (i + 1 + l > vend) return BAD_RDATA;
          ids.push(bytesToText(buf, i + 1, i + 1 + l));
          i += 1 + l;
        }
        rd.alpn = ids;
        break;
      }
      case 2:
        if (vlen !== 0) return BAD_RDATA;
        rd.noDefaultAlpn = true;
        break;
      case 3:
        if (vlen !== 2) return BAD_RDATA;
        rd.port = u16(buf, v);
        break;
      case 4: {
        if (vlen % 4 !== 0) return BAD_RDATA;
        const a: string[] = [];
        for (let i = v; i < vend; i += 4) a.push(formatIpv4(buf, i));
        rd.ipv4hint = a;
        break;
      }
      case 5:
        rd.ech = Buffer.from(buf.subarray(v, vend));
        break;
      case 6: {
        if (vlen % 16 !== 0) return BAD_RDATA;
        const a: string[] = [];
        for (let i = v; i < vend; i += 16) a.push(formatIpv6(buf, i));
        rd.ipv6hint = a;
        break;
      }
      default:
        (rd.other ??= []).push({ key, value: Buffer.from(buf.subarray(v, vend)) });
    }
    p = vend;
  }
  return rd;
}

function readRdata(
  buf: Buffer, ms: number, me: number, type: number, cls: number, ttl: number, p: number, rdEnd: number,
): DnsRdata | number {
  const len = rdEnd - p;
  switch (type) {
    // An address of the wrong size is kept as raw bytes (Suricata logs it as
    // rdata ""), not a message failure: inverse queries carry empty A records.
    case RrType.A:
      return len === 4 ? { kind: 'a', address: formatIpv4(buf, p) } : { kind: 'raw', data: Buffer.from(buf.subarray(p, rdEnd)) };
    case RrType.AAAA:
      return len === 16 ? { kind: 'aaaa', address: formatIpv6(buf, p) } : { kind: 'raw', data: Buffer.from(buf.subarray(p, rdEnd)) };
    case RrType.CNAME:
    case RrType.NS:
    case RrType.PTR: {
      const r = rdName(buf, ms, me, p, rdEnd);
      if (r < 0) return r;
      return r === rdEnd ? { kind: 'name', name: nameResult } : RDATA_LENGTH;
    }
    case RrType.MX: {
      if (len < 3) return RDATA_LENGTH;
      const r = rdName(buf, ms, me, p + 2, rdEnd);
      if (r < 0) return r;
      return r === rdEnd ? { kind: 'mx', preference: u16(buf, p), exchange: nameResult } : RDATA_LENGTH;
    }
    case RrType.TXT: {
      const strings: string[] = [];
      while (p < rdEnd) {
        const l = buf[p];
        if (p + 1 + l > rdEnd) return RDATA_LENGTH;
        strings.push(bytesToText(buf, p + 1, p + 1 + l));
        p += 1 + l;
      }
      return { kind: 'txt', strings };
    }
    case RrType.SRV: {
      if (len < 7) return RDATA_LENGTH;
      const r = rdName(buf, ms, me, p + 6, rdEnd);
      if (r < 0) return r;
      if (r !== rdEnd) return RDATA_LENGTH;
      return { kind: 'srv', priority: u16(buf, p), weight: u16(buf, p + 2), port: u16(buf, p + 4), target: nameResult };
    }
    case RrType.SOA: {
      let r = rdName(buf, ms, me, p, rdEnd);
      if (r < 0) return r;
      const mname = nameResult;
      r = rdName(buf, ms, me, r, rdEnd);
      if (r < 0) return r;
      if (r + 20 !== rdEnd) return RDATA_LENGTH;
      return {
        kind: 'soa', mname, rname: nameResult, serial: u32(buf, r), refresh: u32(buf, r + 4),
        retry: u32(buf, r + 8), expire: u32(buf, r + 12), minimum: u32(buf, r + 16),
      };
    }
    case RrType.OPT: {
      const options: DnsEdnsOption[] = [];
      while (p < rdEnd) {
        if (p + 4 > rdEnd) return BAD_RDATA;
        const code = u16(buf, p);
        const l = u16(buf, p + 2);
        if (p + 4 + l > rdEnd) return BAD_RDATA;
        options.push({ code, data: Buffer.from(buf.subarray(p + 4, p + 4 + l)) });
        p += 4 + l;
      }
      return {
        kind: 'opt', udpSize: cls, extRcode: ttl >>> 24, version: (ttl >>> 16) & 0xff,
        dnssecOk: (ttl & 0x8000) !== 0, z: ttl & 0x7fff, options,
      };
    }
    case RrType.SVCB:
    case RrType.HTTPS:
      return readSvcb(buf, ms, me, p, rdEnd);
    default:
      return { kind: 'raw', data: Buffer.from(buf.subarray(p, rdEnd)) };
  }
}

function readRecord(buf: Buffer, ms: number, me: number, p: number): number {
  failAt = p;
  let r = readName(buf, ms, me, p);
  if (r < 0) return r;
  const name = nameResult;
  failAt = r;
  if (r + 10 > me) return NameError.TRUNCATED;
  const type = u16(buf, r);
  const cls = u16(buf, r + 2);
  const ttl = u32(buf, r + 4);
  const rdStart = r + 10;
  const rdEnd = rdStart + u16(buf, r + 8);
  if (rdEnd > me) return NameError.TRUNCATED;
  failAt = rdStart;
  const data = readRdata(buf, ms, me, type, cls, ttl, rdStart, rdEnd);
  if (typeof data === 'number') return data;
  recordResult = { name, type, class: cls, ttl, data };
  return rdEnd;
}

const RR_SECTIONS: readonly DnsSection[] = ['answer', 'authority', 'additional'];

/**
 * Decode the DNS message in buf[off, off+len) (a UDP payload, or a TCP
 * message without its 2-byte length prefix). Never throws.
 */
export function decodeDnsMessage(buf: Buffer, off: number, len: number): DnsMessage | DnsDecodeError {
  const ms = off;
  const me = Math.min(off + len, buf.length);
  if (me - ms < DNS_HEADER_LEN) return new DnsDecodeError('truncated', 0, 'header');
  beginMessage();
  const id = u16(buf, ms);
  const flags = u16(buf, ms + 2);
  const qdCount = u16(buf, ms + 4);
  let p = ms + DNS_HEADER_LEN;

  const questions: DnsQuestion[] = [];
  for (let i = 0; i < qdCount; i++) {
    const r = readName(buf, ms, me, p);
    if (r < 0) return new DnsDecodeError(errorCode(r), p - ms, 'question');
    if (r + 4 > me) return new DnsDecodeError('truncated', r - ms, 'question');
    questions.push({ name: nameResult, type: u16(buf, r), class: u16(buf, r + 2) });
    p = r + 4;
  }

  const sections: DnsRecord[][] = [[], [], []];
  let partial: DnsDecodeError | undefined;
  outer: for (let s = 0; s < 3; s++) {
    const out = sections[s];
    const count = u16(buf, ms + 6 + 2 * s);
    for (let i = 0; i < count; i++) {
      const r = readRecord(buf, ms, me, p);
      if (r < 0) {
        const err = new DnsDecodeError(errorCode(r), failAt - ms, RR_SECTIONS[s]);
        if (s === 0) return err;
        partial = err;
        break outer;
      }
      out.push(recordResult as DnsRecord);
      p = r;
    }
  }
  recordResult = null;

  let edns: DnsRdataOpt | undefined;
  for (const rr of sections[2]) {
    if (rr.data.kind === 'opt') {
      edns = rr.data;
      break;
    }
  }
  const msg: DnsMessage = {
    id,
    flags,
    qr: (flags & 0x8000) !== 0,
    opcode: (flags >> 11) & 0xf,
    aa: (flags & 0x0400) !== 0,
    tc: (flags & 0x0200) !== 0,
    rd: (flags & 0x0100) !== 0,
    ra: (flags & 0x0080) !== 0,
    z: (flags & 0x0040) !== 0,
    ad: (flags & 0x0020) !== 0,
    cd: (flags & 0x0010) !== 0,
    rcode: (flags & 0xf) | (edns !== undefined ? edns.extRcode << 4 : 0),
    questions,
    answers: sections[0],
    authorities: sections[1],
    additionals: sections[2],
    edns,
    partial,
    trailing: partial === undefined ? me - p : 0,
  };
  return msg;
}

// ---------------------------------------------------------------- encoding

/** Input of encodeDnsMessage: a DnsMessage, or the parts of one a test cares about. */
export interface DnsMessageInit {
  readonly id: number;
  readonly qr?: boolean;
  readonly opcode?: number;
  readonly aa?: boolean;
  readonly tc?: boolean;
  readonly rd?: boolean;
  readonly ra?: boolean;
  readonly z?: boolean;
  readonly ad?: boolean;
  readonly cd?: boolean;
  /** Low 4 bits go in the header; the rest must be carried by an OPT record's extRcode. */
  readonly rcode?: number;
  readonly questions?: readonly DnsQuestion[];
  readonly answers?: readonly DnsRecordInit[];
  readonly authorities?: readonly DnsRecordInit[];
  readonly additionals?: readonly DnsRecordInit[];
}

/** A record to encode; class defaults to IN (1), ttl to 0; for OPT both come from the rdata. */
export interface DnsRecordInit {
  readonly name: string;
  readonly type: number;
  readonly class?: number;
  readonly ttl?: number;
  readonly data: DnsRdata;
}

export interface EncodeOptions {
  /** Compress names with pointers (default true). */
  readonly compress?: boolean;
}

function writeRdata(buf: Buffer, p: number, rr: DnsRecordInit, nw: NameWriter): number {
  const d = rr.data;
  switch (d.kind) {
    case 'a':
      for (const part of d.address.split('.')) buf[p++] = Number(part);
      return p;
    case 'aaaa': {
      const b = parseIpv6(d.address);
      if (b === null) throw new RangeError(`bad IPv6 address ${d.address}`);
      buf.set(b, p);
      return p + 16;
    }
    case 'name':
      return nw.write(buf, p, d.name);
    case 'mx':
      buf.writeUInt16BE(d.preference, p);
      return nw.write(buf, p + 2, d.exchange);
    case 'txt':
      for (const s of d.strings) {
        const n = buf.write(s, p + 1, 'utf8');
        if (n > 255) throw new RangeError('TXT string longer than 255 bytes');
        buf[p] = n;
        p += 1 + n;
      }
      return p;
    case 'srv':
      buf.writeUInt16BE(d.priority, p);
      buf.writeUInt16BE(d.weight, p + 2);
      buf.writeUInt16BE(d.port, p + 4);
      // RFC 2782: the SRV target is not compressed.
      return new NameWriter(false).write(buf, p + 6, d.target);
    case 'soa':
      p = nw.write(buf, p, d.mname);
      p = nw.write(buf, p, d.rname);
      for (const v of [d.serial, d.refresh, d.retry, d.expire, d.minimum]) {
        buf.writeUInt32BE(v >>> 0, p);
        p += 4;
      }
      return p;
    case 'opt':
      for (const o of d.options) {
        buf.writeUInt16BE(o.code, p);
        buf.writeUInt16BE(o.data.length, p + 2);
        o.data.copy(buf, p + 4);
        p += 4 + o.data.length;
      }
      return p;
    case 'svcb': {
      buf.writeUInt16BE(d.priority, p);
      p = new NameWriter(false).write(buf, p + 2, d.target);
      const param = (key: number, write: (at: number) => number): void => {
        buf.writeUInt16BE(key, p);
        const end = write(p + 4);
        buf.writeUInt16BE(end - p - 4, p + 2);
        p = end;
      };
      if (d.mandatory) param(0, (at) => { for (const k of d.mandatory ?? []) { buf.writeUInt16BE(k, at); at += 2; } return at; });
      if (d.alpn) param(1, (at) => { for (const s of d.alpn ?? []) { const n = buf.write(s, at + 1, 'utf8'); buf[at] = n; at += 1 + n; } return at; });
      if (d.noDefaultAlpn) param(2, (at) => at);
      if (d.port !== undefined) param(3, (at) => { buf.writeUInt16BE(d.port ?? 0, at); return at + 2; });
      if (d.ipv4hint) param(4, (at) => { for (const a of d.ipv4hint ?? []) for (const part of a.split('.')) buf[at++] = Number(part); return at; });
      if (d.ech) param(5, (at) => at + (d.ech as Buffer).copy(buf, at));
      if (d.ipv6hint) param(6, (at) => { for (const a of d.ipv6hint ?? []) { buf.set(parseIpv6(a) ?? new Uint8Array(16), at); at += 16; } return at; });
      for (const o of [...(d.other ?? [])].sort((x, y) => x.key - y.key)) param(o.key, (at) => at + o.value.copy(buf, at));
      return p;
    }
    case 'raw':
      return p + d.data.copy(buf, p);
  }
}

/** Encode a message (for tests and tools; throws RangeError on values that cannot be encoded). */
export function encodeDnsMessage(msg: DnsMessageInit, opts: EncodeOptions = {}): Buffer {
  const buf = Buffer.alloc(DNS_MAX_MESSAGE + 1024);
  const nw = new NameWriter(opts.compress ?? true);
  const q = msg.questions ?? [];
  const secs = [msg.answers ?? [], msg.authorities ?? [], msg.additionals ?? []];
  const flags =
    (msg.qr ? 0x8000 : 0) | (((msg.opcode ?? 0) & 0xf) << 11) | (msg.aa ? 0x0400 : 0) | (msg.tc ? 0x0200 : 0) |
    (msg.rd ? 0x0100 : 0) | (msg.ra ? 0x0080 : 0) | (msg.z ? 0x0040 : 0) | (msg.ad ? 0x0020 : 0) |
    (msg.cd ? 0x0010 : 0) | ((msg.rcode ?? 0) & 0xf);
  buf.writeUInt16BE(msg.id & 0xffff, 0);
  buf.writeUInt16BE(flags, 2);
  buf.writeUInt16BE(q.length, 4);
  buf.writeUInt16BE(secs[0].length, 6);
  buf.writeUInt16BE(secs[1].length, 8);
  buf.writeUInt16BE(secs[2].length, 10);
  let p = DNS_HEADER_LEN;
  for (const qq of q) {
    p = nw.write(buf, p, qq.name);
    buf.writeUInt16BE(qq.type, p);
    buf.writeUInt16BE(qq.class, p + 2);
    p += 4;
  }
  for (const sec of secs) {
    for (const rr of sec) {
      p = nw.write(buf, p, rr.name);
      let cls = rr.class ?? 1;
      let ttl = rr.ttl ?? 0;
      if (rr.data.kind === 'opt') {
        const o = rr.data;
        cls = o.udpSize;
        ttl = ((o.extRcode & 0xff) << 24) | ((o.version & 0xff) << 16) | (o.dnssecOk ? 0x8000 : 0) | (o.z & 0x7fff);
      }
      buf.writeUInt16BE(rr.type, p);
      buf.writeUInt16BE(cls, p + 2);
      buf.writeUInt32BE(ttl >>> 0, p + 4);
      const rdStart = p + 10;
      const end = writeRdata(buf, rdStart, rr, nw);
      if (end - rdStart > 0xffff) throw new RangeError('rdata longer than 65535 bytes');
      buf.writeUInt16BE(end - rdStart, p + 8);
      p = end;
      if (p > DNS_MAX_MESSAGE) throw new RangeError('DNS message longer than 65535 bytes');
    }
  }
  return Buffer.from(buf.subarray(0, p));
}
