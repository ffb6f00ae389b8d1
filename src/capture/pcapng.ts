/**
 * pcapng block parser (draft-ietf-opsawg-pcapng).
 *
 * Every block is type(4) length(4) body length(4), length a multiple of 4.
 * A Section Header Block (0x0A0D0D0A, the same in both byte orders) starts a
 * section: its byte-order magic 0x1A2B3C4D fixes the byte order of every
 * later block until the next SHB, and interface numbering restarts with it.
 * Interface Description Blocks declare interfaces (link type, snaplen, and
 * the options if_tsresol and if_tsoffset that define how to read
 * timestamps); packet blocks (EPB, SPB, obsolete OPB) refer to them. Other
 * blocks (name resolution, statistics, decryption secrets, custom, unknown)
 * are skipped by their length.
 *
 * Corruption that loses block sync (length not a multiple of 4, below the
 * minimum, above MAX_BLOCK_LEN, trailing length differing from the leading
 * one, caplen beyond the block) stops parsing with a warning. A packet block
 * naming an undeclared interface is skipped with a warning: sync is intact.
 *
 * Timestamps are 64-bit counts of 1/D seconds (D = 10^k or 2^k). They are
 * split into (seconds, nanoseconds) without BigInt or allocation: see
 * `splitTimestamp`.
 */
import { HarrierError } from '../errors.js';
import { rd16, rd32, type RecordContext, type RecordParser } from './record-context.js';

export const BT_SHB = 0x0a0d0d0a;
export const BT_IDB = 1;
export const BT_OPB = 2;
export const BT_SPB = 3;
export const BT_EPB = 6;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;

/** Wireshark's limit on a block, beyond which a length is taken as corruption. */
export const MAX_BLOCK_LEN = 16 * 1024 * 1024;

const OPT_ENDOFOPT = 0;
const OPT_IF_TSRESOL = 9;
const OPT_IF_TSOFFSET = 14;

const TWO32 = 4294967296;

/** The parts of an interface a packet block needs, stored column-wise. */
class Interfaces {
  count = 0;
  linkType: number[] = [];
  snaplen: number[] = [];
  /** Timestamp units per second (D). */
  units: number[] = [];
  /** Seconds added to every timestamp (if_tsoffset). */
  offset: number[] = [];

  reset(): void {
    this.count = 0;
  }

  add(lt: number, snap: number, units: number, offset: number): number {
    const i = this.count++;
    this.linkType[i] = lt;
    this.snaplen[i] = snap;
    this.units[i] = units;
    this.offset[i] = offset;
    return i;
  }
}

export class PcapngParser implements RecordParser {
  need = 12;
  stopped = false;
  headerDone = false;
  /** Byte order of the current section. */
  littleEndian = true;
  /** Sections seen so far. */
  sections = 0;
  private readonly ifs = new Interfaces();
  /** Output of splitTimestamp, kept in fields to avoid allocating a pair per packet. */
  private tsSec = 0;
  private tsNsec = 0;

  constructor(private readonly ctx: RecordContext, private readonly source: string) {}

  parse(buf: Buffer, off: number, end: number, abs: number): number {
    const ctx = this.ctx;
    const sink = ctx.sink;
    const ifs = this.ifs;
    const base = abs - off;
    let n = 0;
    for (;;) {
      const avail = end - off;
      if (avail < 8) {
        this.need = 8;
        break;
      }
      const type = rd32(buf, off, this.littleEndian);
      if (type === BT_SHB) {
        // The byte order comes from the SHB itself, so its length can only be read after it.
        if (avail < 12) {
          this.need = 12;
          break;
        }
        const bom = buf.readUInt32LE(off + 8);
        if (bom === BYTE_ORDER_MAGIC) this.littleEndian = true;
        else if (bom === 0x4d3c2b1a) this.littleEndian = false;
        else {
          this.corrupt(base + off, `section header byte-order magic 0x${bom.toString(16)} is invalid`);
          break;
        }
      } else if (!this.headerDone) {
        this.corrupt(base + off, 'first block is not a section header');
        break;
      }
      const le = this.littleEndian;
      const blen = rd32(buf, off + 4, le);
      if (blen < 12 || (blen & 3) !== 0 || blen > MAX_BLOCK_LEN) {
        this.corrupt(base + off, `block length ${blen} is invalid`);
        break;
      }
      if (avail < blen) {
        this.need = blen;
        break;
      }
      if (rd32(buf, off + blen - 4, le) !== blen) {
        this.corrupt(base + off, `block trailing length ${rd32(buf, off + blen - 4, le)} differs from ${blen}`);
        break;
      }
      if (type === BT_EPB || type === BT_OPB) {
        if (blen < 32) {
          this.corrupt(base + off, `packet block length ${blen} is too short`);
          break;
        }
        // EPB: if_id(4) ts_hi ts_lo caplen origlen; OPB: if_id(2) drops(2) ts_hi ts_lo caplen origlen.
        const ifId = type === BT_EPB ? rd32(buf, off + 8, le) : rd16(buf, off + 8, le);
        const capLen = rd32(buf, off + 20, le);
        if (capLen > blen - 32) {
          this.corrupt(base + off, `packet length ${capLen} exceeds its block (${blen} bytes)`);
          break;
        }
        if (ifId >= ifs.count) {
          ctx.warn(`packet block at byte ${base + off} names interface ${ifId} but the section declares ${ifs.count}; skipped`);
        } else {
          this.splitTimestamp(rd32(buf, off + 12, le), rd32(buf, off + 16, le), ifs.units[ifId]);
          sink.frame(
            buf, off + 28, capLen, rd32(buf, off + 24, le),
            this.tsSec + ifs.offset[ifId], this.tsNsec, ifs.linkType[ifId], ifId,
          );
          n++;
        }
      } else if (type === BT_SPB) {
        if (blen < 16) {
          this.corrupt(base + off, `simple packet block length ${blen} is too short`);
          break;
        }
        if (ifs.count === 0) {
          ctx.warn(`simple packet block at byte ${base + off} precedes any interface description; skipped`);
        } else {
          // No caplen field: the captured part is bounded by the block, the original length and the snaplen.
          const origLen = rd32(buf, off + 8, le);
          const snap = ifs.snaplen[0];
          let capLen = blen - 16;
          if (origLen < capLen) capLen = origLen;
          if (snap !== 0 && snap < capLen) capLen = snap;
          // SPB has no timestamp: (0, 0) says "unknown".
          sink.frame(buf, off + 12, capLen, origLen, 0, 0, ifs.linkType[0], 0);
          n++;
        }
      } else if (type === BT_IDB) {
        if (blen < 20) {
          this.corrupt(base + off, `interface description block length ${blen} is too short`);
          break;
        }
        this.readIdb(buf, off, blen, base + off);
      } else if (type === BT_SHB) {
        if (!this.readShb(buf, off, blen, base + off)) break;
      }
      // Any other block type (NRB 4, ISB 5, DSB 10, custom 0xBAD/0x40000BAD, unknown) is skipped.
      off += blen;
    }
    ctx.records += n;
    return off;
  }

  private corrupt(at: number, what: string): void {
    if (!this.headerDone) {
      throw new HarrierError('HARRIER_ERR_CAPTURE_FORMAT', `${this.source}: pcapng section header is corrupt: ${what}`);
    }
    this.ctx.warn(`capture corrupt at byte ${at}: ${what}; rest of input ignored`);
    this.stopped = true;
  }

  private readShb(buf: Buffer, off: number, blen: number, at: number): boolean {
    if (blen < 28) {
      this.corrupt(at, `section header length ${blen} is too short`);
      return false;
    }
    const major = rd16(buf, off + 12, this.littleEndian);
    if (major !== 1) {
      this.corrupt(at, `pcapng version ${major} is not supported`);
      return false;
    }
    this.ifs.reset();
    this.sections++;
    this.headerDone = true;
    return true;
  }

  private readIdb(buf: Buffer, off: number, blen: number, at: number): void {
    const le = this.littleEndian;
    const lt = rd16(buf, off + 8, le);
    const snap = rd32(buf, off + 12, le);
    let units = 1e6;
    let offset = 0;
    // Options: code(2) length(2) value padded to 4, up to the trailing length.
    let o = off + 16;
    const optEnd = off + blen - 4;
    while (o + 4 <= optEnd) {
      const code = rd16(buf, o, le);
      const len = rd16(buf, o + 2, le);
      if (code === OPT_ENDOFOPT) break;
      const v = o + 4;
      if (v + len > optEnd) {
        this.ctx.warn(`interface description at byte ${at}: option ${code} overruns the block; later options ignored`);
        break;
      }
      if (code === OPT_IF_TSRESOL && len >= 1) {
        const r = buf[v];
        const exp = r & 0x7f;
        // MSB set: a negative power of 2, else a negative power of 10.
        const u = r & 0x80 ? 2 ** exp : 10 ** exp;
        if (u > 2 ** 63) {
          this.ctx.warn(`interface description at byte ${at}: timestamp resolution 0x${r.toString(16)} is out of range; microseconds assumed`);
        } else units = u;
      } else if (code === OPT_IF_TSOFFSET && len >= 8) {
        // Signed 64-bit seconds; a double is exact for any plausible offset.
        const a = rd32(buf, v, le);
        const b = rd32(buf, v + 4, le);
        const hi = le ? b : a;
        const lo = le ? a : b;
        offset = (hi | 0) * TWO32 + lo;
      }
      o = v + ((len + 3) & ~3);
    }
    const i = this.ifs.add(lt, snap, units, offset);
    this.ctx.linkType(lt, i);
  }

  /**
   * (hi·2^32 + lo) / units → this.tsSec, this.tsNsec.
   *
   * Microsecond counts stay below 2^53 until the year 2255, so a double holds
   * them exactly. Nanosecond counts do not (now ~1.7e18), so larger values
   * are divided by long division in base 2^16, each step exact in a double
   * while units < 2^37. Only resolutions finer than that (picoseconds) take
   * the BigInt path, which allocates.
   */
  private splitTimestamp(hi: number, lo: number, units: number): void {
    let sec: number;
    let rem: number;
    if (hi < 0x200000) {
      const v = hi * TWO32 + lo;
      sec = Math.floor(v / units);
      rem = v - sec * units;
      // v / units is rounded; fix an off-by-one at exact multiples.
      if (rem < 0) {
        sec--;
        rem += units;
      } else if (rem >= units) {
        sec++;
        rem -= units;
      }
    } else if (units < 137438953472) {
      let r = 0;
      let q = 0;
      const digits0 = hi >>> 16;
      const digits1 = hi & 0xffff;
      const digits2 = lo >>> 16;
      const digits3 = lo & 0xffff;
      for (let k = 0; k < 4; k++) {
        const d = k === 0 ? digits0 : k === 1 ? digits1 : k === 2 ? digits2 : digits3;
        const cur = r * 65536 + d;
        let qd = Math.floor(cur / units);
        r = cur - qd * units;
        if (r < 0) {
          qd--;
          r += units;
        } else if (r >= units) {
          qd++;
          r -= units;
        }
        q = q * 65536 + qd;
      }
      sec = q;
      rem = r;
    } else {
      // Finer than 2^-37 s: exotic, so exactness via BigInt is worth its allocation.
      const v = (BigInt(hi) << 32n) | BigInt(lo);
      const u = BigInt(units);
      this.tsSec = Number(v / u);
      this.tsNsec = Number(((v % u) * 1000000000n) / u);
      return;
    }
    let ns: number;
    if (units === 1e9) ns = rem;
    else if (units === 1e6) ns = rem * 1000;
    else if (units < 1e9 && 1e9 % units === 0) ns = rem * (1e9 / units);
    else if (units > 1e9 && units % 1e9 === 0) ns = Math.floor(rem / (units / 1e9));
    else if (units <= 4294967296) {
      // Powers of 2: rem·1e9/units = rem·5^9 / (units/2^9); the product stays below 2^53 and
      // dividing by a power of two is exact, so the floor is exact.
      ns = Math.floor((rem * 1953125) / (units / 512));
    } else ns = Number((BigInt(rem) * 1000000000n) / BigInt(units));
    this.tsSec = sec;
    this.tsNsec = ns;
  }
}
