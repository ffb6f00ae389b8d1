/**
 * Classic pcap (libpcap) record parser.
 *
 * File header (24 bytes): magic, version 2.4, thiszone, sigfigs, snaplen,
 * link type; then records of a 16-byte header (ts_sec, ts_frac, caplen,
 * origlen) followed by caplen bytes. The magic gives the byte order and the
 * timestamp unit: a1b2c3d4 microseconds, a1b23c4d nanoseconds, in either byte
 * order; a1b2cd34 is the "modified" (Kuznetzov) format whose record headers
 * carry 8 more bytes (ifindex, protocol, pkt_type), skipped here.
 *
 * Corruption: a record claiming more than MAX_RECORD_CAPLEN bytes cannot be
 * real (libpcap refuses above 262144 for most link types; we allow 4x for
 * odd writers) and usually means the reader lost sync, so the parser stops
 * there with a warning instead of delivering garbage; everything before is
 * kept. Fractions of a second at or above one second (seen in fuzzed and
 * badly converted files) are carried into the seconds so the sink always sees
 * tsNsec < 1e9.
 */
import { HarrierError } from '../errors.js';
import { rd32, type RecordContext, type RecordParser } from './record-context.js';

export const PCAP_HEADER_LEN = 24;
export const MAX_RECORD_CAPLEN = 262144 * 4;

/** Magic numbers as read big-endian from the first four bytes. */
export const PCAP_MAGIC_US = 0xa1b2c3d4;
export const PCAP_MAGIC_NS = 0xa1b23c4d;
export const PCAP_MAGIC_MODIFIED = 0xa1b2cd34;

/** Whether the first four bytes (read big-endian) are a classic pcap magic in either byte order. */
export function isPcapMagic(be: number): boolean {
  const le = swap32(be);
  return (
    be === PCAP_MAGIC_US || be === PCAP_MAGIC_NS || be === PCAP_MAGIC_MODIFIED ||
    le === PCAP_MAGIC_US || le === PCAP_MAGIC_NS || le === PCAP_MAGIC_MODIFIED
  );
}

function swap32(x: number): number {
  return (((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24)) >>> 0;
}

export class PcapParser implements RecordParser {
  need = PCAP_HEADER_LEN;
  stopped = false;
  headerDone = false;
  /** Parsed header fields, readable once headerDone. */
  littleEndian = true;
  nanos = false;
  linkType = -1;
  snaplen = 0;
  versionMajor = 0;
  versionMinor = 0;
  private recHdr = 16;

  constructor(private readonly ctx: RecordContext, private readonly source: string) {}

  parse(buf: Buffer, off: number, end: number, abs: number): number {
    if (!this.headerDone) {
      if (end - off < PCAP_HEADER_LEN) {
        this.need = PCAP_HEADER_LEN;
        return off;
      }
      this.readHeader(buf, off);
      off += PCAP_HEADER_LEN;
      abs += PCAP_HEADER_LEN;
    }
    const sink = this.ctx.sink;
    const le = this.littleEndian;
    const lt = this.linkType;
    const hdr = this.recHdr;
    // Fraction unit: nanoseconds, or microseconds scaled by 1000.
    const mul = this.nanos ? 1 : 1000;
    const fracLimit = this.nanos ? 1e9 : 1e6;
    const start = off;
    let n = 0;
    for (;;) {
      const avail = end - off;
      if (avail < hdr) {
        this.need = hdr;
        break;
      }
      const capLen = rd32(buf, off + 8, le);
      if (capLen > MAX_RECORD_CAPLEN) {
        this.ctx.warn(
          `capture corrupt at byte ${abs + (off - start)}: record length ${capLen} exceeds ${MAX_RECORD_CAPLEN}; rest of input ignored`,
        );
        this.stopped = true;
        break;
      }
      if (avail - hdr < capLen) {
        this.need = hdr + capLen;
        break;
      }
      let tsSec = rd32(buf, off, le);
      let frac = rd32(buf, off + 4, le);
      if (frac >= fracLimit) {
        // Rare (corrupt writers): carry whole seconds instead of passing tsNsec >= 1e9.
        const carry = Math.floor(frac / fracLimit);
        tsSec += carry;
        frac -= carry * fracLimit;
      }
      sink.frame(buf, off + hdr, capLen, rd32(buf, off + 12, le), tsSec, frac * mul, lt, 0);
      n++;
      off += hdr + capLen;
    }
    this.ctx.records += n;
    return off;
  }

  private readHeader(buf: Buffer, off: number): void {
    const be = buf.readUInt32BE(off);
    let le: boolean;
    let magic: number;
    if (be === PCAP_MAGIC_US || be === PCAP_MAGIC_NS || be === PCAP_MAGIC_MODIFIED) {
      le = false;
      magic = be;
    } else {
      le = true;
      magic = swap32(be);
      if (magic !== PCAP_MAGIC_US && magic !== PCAP_MAGIC_NS && magic !== PCAP_MAGIC_MODIFIED) {
        // The driver sniffs the magic before choosing this parser; kept for direct use.
        throw new HarrierError('HARRIER_ERR_CAPTURE_FORMAT', `${this.source}: not a pcap file (bad magic)`);
      }
    }
    this.littleEndian = le;
    this.nanos = magic === PCAP_MAGIC_NS;
    this.recHdr = magic === PCAP_MAGIC_MODIFIED ? 24 : 16;
    this.versionMajor = le ? buf.readUInt16LE(off + 4) : buf.readUInt16BE(off + 4);
    this.versionMinor = le ? buf.readUInt16LE(off + 6) : buf.readUInt16BE(off + 6);
    this.snaplen = rd32(buf, off + 16, le);
    // The upper 16 bits carry FCS-length flags (LT_FCS_*), not the type.
    this.linkType = rd32(buf, off + 20, le) & 0xffff;
    this.headerDone = true;
    this.need = this.recHdr;
    this.ctx.linkType(this.linkType, 0);
  }
}
