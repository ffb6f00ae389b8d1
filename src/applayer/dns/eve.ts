/**
 * EVE `dns` objects in Suricata 7's version-2 format.
 *
 * Suricata 7 logs every DNS message as its own record: a request gives one
 * `{type:"query"}` record per question, a response one `{type:"answer",
 * version:2}` record with the detailed `answers` list, the `grouped` map and
 * `authorities`. Names and spellings follow Suricata 7's log.rs: rrtype names
 * (including its quirks `NSAPPT`, `CDSNKEY`, `ND` for MD; SVCB has no name
 * and is logged as "64"), rcode names, flags as unpadded lowercase hex,
 * AAAA rdata as eight 4-digit groups, MX rdata = the exchange name only, one
 * answer entry per TXT character-string.
 *
 * Where Suricata 7 writes fields that its own 7.0.4 schema forbids
 * (`additionalProperties: false`), the schema wins: `soa` appears only in
 * authorities and `srv` only in answers, and `grouped` carries only the keys
 * the schema lists (A AAAA CNAME MX NULL PTR SRV TXT; NS and SOA are left
 * out — they remain in `answers`), and `tc` is not written (the schema has
 * no such field; `DnsMessage.tc` keeps it). Deliberate difference: when an EDNS OPT
 * record carries extended rcode bits, `rcode` names the full 12-bit value
 * (BADVERS, BADCOOKIE …) where Suricata 7 names only the low 4 bits.
 */
import { ipv6Full } from './address.js';
import type { DnsMessage, DnsRecord } from './codec.js';
import { bytesToText } from './text.js';

const RRTYPE_NAMES: Record<number, string> = {
  1: 'A', 2: 'NS', 3: 'ND', 4: 'MF', 5: 'CNAME', 6: 'SOA', 7: 'MB', 8: 'MG', 9: 'MR', 10: 'NULL', 11: 'WKS',
  12: 'PTR', 13: 'HINFO', 14: 'MINFO', 15: 'MX', 16: 'TXT', 17: 'RP', 18: 'AFSDB', 19: 'X25', 20: 'ISDN',
  21: 'RT', 22: 'NSAP', 23: 'NSAPPT', 24: 'SIG', 25: 'KEY', 26: 'PX', 27: 'GPOS', 28: 'AAAA', 29: 'LOC',
  30: 'NXT', 33: 'SRV', 34: 'ATMA', 35: 'NAPTR', 36: 'KX', 37: 'CERT', 38: 'A6', 39: 'DNAME', 41: 'OPT',
  42: 'APL', 43: 'DS', 44: 'SSHFP', 45: 'IPSECKEY', 46: 'RRSIG', 47: 'NSEC', 48: 'DNSKEY', 49: 'DHCID',
  50: 'NSEC3', 51: 'NSEC3PARAM', 52: 'TLSA', 55: 'HIP', 59: 'CDS', 60: 'CDSNKEY', 65: 'HTTPS', 99: 'SPF',
  249: 'TKEY', 250: 'TSIG', 253: 'MAILA', 255: 'ANY', 256: 'URI',
};

/** Suricata's rrtype name, or the number as text. */
export function rrtypeName(type: number): string {
  return RRTYPE_NAMES[type] ?? String(type);
}

const RCODE_NAMES = [
  'NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'YXDOMAIN', 'YXRRSET', 'NXRRSET',
  'NOTAUTH', 'NOTZONE', '11', '12', '13', '14', '15', 'BADVERS/BADSIG', 'BADKEY', 'BADTIME', 'BADMODE',
  'BADNAME', 'BADALG', 'BADTRUNC',
];

export function rcodeName(rcode: number): string {
  return RCODE_NAMES[rcode] ?? String(rcode);
}

/** One EVE `dns` record of a request: one per question (Suricata writes one line each). */
export function queryEve(msg: DnsMessage, txId: number, qIndex: number): Record<string, unknown> {
  const o: Record<string, unknown> = { type: 'query', id: msg.id };
  const q = msg.questions[qIndex];
  if (q !== undefined) {
    o.rrname = q.name;
    o.rrtype = rrtypeName(q.type);
  }
  o.tx_id = txId;
  if (msg.z) o.z = true;
  o.opcode = msg.opcode;
  return o;
}

type Detail = Record<string, unknown>;

function detail(rr: DnsRecord, section: 'answers' | 'authorities', out: Detail[]): void {
  const base = (): Detail => ({ rrname: rr.name, rrtype: rrtypeName(rr.type), ttl: rr.ttl });
  const d = rr.data;
  switch (d.kind) {
    case 'a':
      out.push({ ...base(), rdata: d.address });
      return;
    case 'aaaa':
      out.push({ ...base(), rdata: ipv6Full(d.address) });
      return;
    case 'name':
      out.push({ ...base(), rdata: d.name });
      return;
    case 'mx':
      out.push({ ...base(), rdata: d.exchange });
      return;
    case 'txt':
      // Suricata expands each character-string into its own entry.
      if (d.strings.length === 0) out.push({ ...base(), rdata: '' });
      for (const s of d.strings) out.push({ ...base(), rdata: s });
      return;
    case 'raw':
      if (rr.type === 10) out.push({ ...base(), rdata: nullText(d.data) });
      else if (rr.type === 1 || rr.type === 28) out.push({ ...base(), rdata: '' });
      else out.push(base());
      return;
    case 'srv':
      if (section === 'answers') {
        out.push({ ...base(), srv: { priority: d.priority, weight: d.weight, port: d.port, name: d.target } });
      } else out.push(base());
      return;
    case 'soa':
      if (section === 'authorities') {
        out.push({
          ...base(),
          soa: {
            mname: d.mname, rname: d.rname, serial: d.serial, refresh: d.refresh, retry: d.retry,
            expire: d.expire, minimum: d.minimum,
          },
        });
      } else out.push(base());
      return;
    default:
      out.push(base());
  }
}

function nullText(b: Buffer): string {
  return bytesToText(b, 0, b.length);
}

/** Grouped keys allowed by the 7.0.4 schema. */
const GROUPED = new Set(['A', 'AAAA', 'CNAME', 'MX', 'NULL', 'PTR', 'SRV', 'TXT']);

/** The EVE `dns` record of a response. */
export function answerEve(msg: DnsMessage): Record<string, unknown> {
  const o: Record<string, unknown> = { version: 2, type: 'answer', id: msg.id, flags: msg.flags.toString(16) };
  if (msg.qr) o.qr = true;
  if (msg.aa) o.aa = true;
  if (msg.rd) o.rd = true;
  if (msg.ra) o.ra = true;
  if (msg.z) o.z = true;
  o.opcode = msg.opcode;
  const q = msg.questions[0];
  if (q !== undefined) {
    o.rrname = q.name;
    o.rrtype = rrtypeName(q.type);
  }
  o.rcode = rcodeName(msg.rcode);
  if (msg.answers.length > 0) {
    const answers: Detail[] = [];
    for (const rr of msg.answers) detail(rr, 'answers', answers);
    const grouped: Record<string, unknown[]> = {};
    for (const a of answers) {
      const t = a.rrtype as string;
      if (!GROUPED.has(t)) continue;
      const v = t === 'SRV' ? a.srv : a.rdata;
      if (v === undefined) continue;
      (grouped[t] ??= []).push(v);
    }
    if (answers.length > 0) o.answers = answers;
    if (Object.keys(grouped).length > 0) o.grouped = grouped;
  }
  if (msg.authorities.length > 0) {
    const auth: Detail[] = [];
    for (const rr of msg.authorities) detail(rr, 'authorities', auth);
    if (auth.length > 0) o.authorities = auth;
  }
  return o;
}
