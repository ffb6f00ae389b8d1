/**
 * HPACK header-block decoding (RFC 7541): integers (§5.1), strings with
 * optional Huffman coding (§5.2), the static table (Appendix A), the dynamic
 * table with size updates and eviction (§4, §6.3), and the four field
 * representations (§6.1–6.2), never-indexed literals flagged.
 *
 * One decoder per direction and connection: the dynamic table is state, so a
 * block that fails to decode leaves the table unknown — the caller must stop
 * decoding that direction (`broken`).
 *
 * Memory is bounded by the dynamic-table limit (the peer's
 * SETTINGS_HEADER_TABLE_SIZE, capped by `hardTableCap`), the header-list limit
 * per block (strings longer than it are refused before being copied), and one
 * scratch buffer for Huffman output. A hostile block cannot loop: every step
 * consumes at least one byte, integers are refused beyond 2^28.
 */
import { huffmanDecode } from './huffman.js';

/** One decoded header field. Name and value are private copies (or shared table entries). */
export interface H2Header {
  readonly name: Buffer;
  readonly value: Buffer;
  /** Sent as a never-indexed literal (§6.2.3): a sensitive value. */
  readonly neverIndexed: boolean;
}

export const HPACK_OK = 0;
/** An integer with more than 4 continuation bytes or above 2^28. */
export const HPACK_ERR_INTEGER = 1;
/** Index 0 or beyond the static + dynamic tables. */
export const HPACK_ERR_INDEX = 2;
/** Invalid Huffman string (EOS, bad padding). */
export const HPACK_ERR_HUFFMAN = 3;
/** The block ends inside a representation. */
export const HPACK_ERR_TRUNCATED = 4;
/** A dynamic table size update above the allowed maximum, or not at the start of the block. */
export const HPACK_ERR_SIZE_UPDATE = 5;
/** The decoded list exceeds the header-list limit (decoding went on to keep the table right; fields were dropped). */
export const HPACK_ERR_LIST_TOO_LARGE = 6;

const STATIC: readonly (readonly [string, string])[] = [
  [':authority', ''], [':method', 'GET'], [':method', 'POST'], [':path', '/'], [':path', '/index.html'],
  [':scheme', 'http'], [':scheme', 'https'], [':status', '200'], [':status', '204'], [':status', '206'],
  [':status', '304'], [':status', '400'], [':status', '404'], [':status', '500'], ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'], ['accept-language', ''], ['accept-ranges', ''], ['accept', ''],
  ['access-control-allow-origin', ''], ['age', ''], ['allow', ''], ['authorization', ''], ['cache-control', ''],
  ['content-disposition', ''], ['content-encoding', ''], ['content-language', ''], ['content-length', ''],
  ['content-location', ''], ['content-range', ''], ['content-type', ''], ['cookie', ''], ['date', ''], ['etag', ''],
  ['expect', ''], ['expires', ''], ['from', ''], ['host', ''], ['if-match', ''], ['if-modified-since', ''],
  ['if-none-match', ''], ['if-range', ''], ['if-unmodified-since', ''], ['last-modified', ''], ['link', ''],
  ['location', ''], ['max-forwards', ''], ['proxy-authenticate', ''], ['proxy-authorization', ''], ['range', ''],
  ['referer', ''], ['refresh', ''], ['retry-after', ''], ['server', ''], ['set-cookie', ''],
  ['strict-transport-security', ''], ['transfer-encoding', ''], ['user-agent', ''], ['vary', ''], ['via', ''],
  ['www-authenticate', ''],
];
/** Static table as Buffers, index 1..61 (slot 0 unused). Shared, never mutated. */
const STATIC_NAMES: Buffer[] = [Buffer.alloc(0)];
const STATIC_VALUES: Buffer[] = [Buffer.alloc(0)];
for (const [n, v] of STATIC) {
  STATIC_NAMES.push(Buffer.from(n, 'latin1'));
  STATIC_VALUES.push(Buffer.from(v, 'latin1'));
}
export const STATIC_TABLE_SIZE = 61;
const EMPTY = Buffer.alloc(0);

/** Per-entry overhead in the table size (§4.1). */
const ENTRY_OVERHEAD = 32;

export class HpackDecoder {
  /**
   * Ring of dynamic entries; newest at (head + count - 1) % cap. It starts
   * small and doubles up to what the hard cap allows (every entry is ≥ 32
   * bytes), because most connections hold a few dozen entries and a decoder
   * is made per direction per flow.
   */
  private names: Buffer[];
  private values: Buffer[];
  private cap = 16;
  private readonly maxCap: number;
  private head = 0;
  private count = 0;
  /** Current size (§4.1) and the size the encoder chose (≤ maxAllowed). */
  size = 0;
  tableLimit: number;
  /** What the decoding side allowed (SETTINGS_HEADER_TABLE_SIZE), capped by hardTableCap. */
  private maxAllowed: number;
  /** A block failed: the table is no longer known. */
  broken = false;
  /** Last size update seen (-1 none): http2.size_update for rules. */
  lastSizeUpdate = -1;
  private scratch: Buffer;

  constructor(
    private readonly hardTableCap = 65536,
    /** Longest header list (name + value + 32 per field, §10.5.1) a block may decode to. */
    private readonly maxListSize = 65536,
  ) {
    this.maxAllowed = Math.min(4096, hardTableCap);
    this.tableLimit = this.maxAllowed;
    this.maxCap = Math.floor(hardTableCap / ENTRY_OVERHEAD) + 1;
    this.names = new Array<Buffer>(this.cap).fill(EMPTY);
    this.values = new Array<Buffer>(this.cap).fill(EMPTY);
    this.scratch = EMPTY;
  }

  /** Entries in the dynamic table. */
  get length(): number {
    return this.count;
  }

  /**
   * The decoding endpoint announced SETTINGS_HEADER_TABLE_SIZE (§6.5.2 of RFC
   * 9113): the encoder may now use up to `n`. Capped by the hard limit; a
   * passive observer may miss the SETTINGS, so 4096 stays allowed.
   */
  setMaxAllowed(n: number): void {
    this.maxAllowed = Math.min(Math.max(n, 4096), this.hardTableCap);
  }

  /** Dynamic entry i (1 = newest), for tests. */
  entry(i: number): [Buffer, Buffer] | null {
    if (i < 1 || i > this.count) return null;
    const k = (this.head + this.count - i) % this.cap;
    return [this.names[k]!, this.values[k]!];
  }

  private evictTo(limit: number): void {
    while (this.size > limit && this.count > 0) {
      const k = this.head;
      this.size -= this.names[k]!.length + this.values[k]!.length + ENTRY_OVERHEAD;
      this.names[k] = EMPTY;
      this.values[k] = EMPTY;
      this.head = (this.head + 1) % this.cap;
      this.count--;
    }
  }

  private grow(): void {
    const n = Math.min(this.cap * 2, this.maxCap);
    const names = new Array<Buffer>(n).fill(EMPTY);
    const values = new Array<Buffer>(n).fill(EMPTY);
    for (let i = 0; i < this.count; i++) {
      const k = (this.head + i) % this.cap;
      names[i] = this.names[k]!;
      values[i] = this.values[k]!;
    }
    this.names = names;
    this.values = values;
    this.head = 0;
    this.cap = n;
  }

  private insert(name: Buffer, value: Buffer): void {
    const sz = name.length + value.length + ENTRY_OVERHEAD;
    if (sz > this.tableLimit) {
      // §4.4: an entry larger than the table empties it and is not added.
      this.evictTo(0);
      return;
    }
    this.evictTo(this.tableLimit - sz);
    if (this.count === this.cap) this.grow();
    const k = (this.head + this.count) % this.cap;
    this.names[k] = name;
    this.values[k] = value;
    this.count++;
    this.size += sz;
  }

  /**
   * Decodes one complete header block, appending fields to `out`.
   * Returns HPACK_OK or an HPACK_ERR_* code; any code except
   * HPACK_ERR_LIST_TOO_LARGE marks the decoder broken.
   */
  decode(b: Buffer, off: number, len: number, out: H2Header[]): number {
    if (this.broken) return HPACK_ERR_TRUNCATED;
    const r = this.decodeInner(b, off, off + len, out);
    if (r !== HPACK_OK && r !== HPACK_ERR_LIST_TOO_LARGE) this.broken = true;
    return r;
  }

  // Integer decoding result goes here (no tuple allocation).
  private iv = 0;
  private ip = 0;

  /** Reads an integer with an n-bit prefix at p; sets iv/ip, or returns an error code. */
  private int(b: Buffer, p: number, end: number, n: number): number {
    const mask = (1 << n) - 1;
    let v = b[p++]! & mask;
    if (v < mask) {
      this.iv = v;
      this.ip = p;
      return HPACK_OK;
    }
    let shift = 0;
    for (let k = 0; ; k++) {
      if (p >= end) return HPACK_ERR_TRUNCATED;
      if (k >= 4) return HPACK_ERR_INTEGER;
      const c = b[p++]!;
      v += (c & 0x7f) * 2 ** shift;
      shift += 7;
      if ((c & 0x80) === 0) break;
    }
    if (v > 0x0fffffff) return HPACK_ERR_INTEGER;
    this.iv = v;
    this.ip = p;
    return HPACK_OK;
  }

  // String result.
  private sv: Buffer = EMPTY;

  private str(b: Buffer, p: number, end: number): number {
    if (p >= end) return HPACK_ERR_TRUNCATED;
    const huff = (b[p]! & 0x80) !== 0;
    const r = this.int(b, p, end, 7);
    if (r !== HPACK_OK) return r;
    const n = this.iv;
    p = this.ip;
    if (n > end - p) return HPACK_ERR_TRUNCATED;
    if (n > this.maxListSize) {
      // Cannot be kept and stops the block midway: the table is no longer known.
      this.broken = true;
      return HPACK_ERR_LIST_TOO_LARGE;
    }
    if (!huff) {
      if (n === 0) this.sv = EMPTY;
      else {
        // allocUnsafe + copy: no intermediate view (measured ~2× cheaper than Buffer.from(subarray)).
        const v = Buffer.allocUnsafe(n);
        b.copy(v, 0, p, p + n);
        this.sv = v;
      }
    } else {
      const worst = Math.floor((n * 8) / 5);
      if (this.scratch.length < worst) this.scratch = Buffer.allocUnsafe(Math.max(worst, this.scratch.length * 2, 256));
      const m = huffmanDecode(b, p, n, this.scratch, 0);
      if (m < 0) return HPACK_ERR_HUFFMAN;
      if (m === 0) this.sv = EMPTY;
      else {
        const v = Buffer.allocUnsafe(m);
        this.scratch.copy(v, 0, 0, m);
        this.sv = v;
      }
    }
    this.ip = p + n;
    return HPACK_OK;
  }

  private nameAt(i: number): Buffer | null {
    if (i >= 1 && i <= STATIC_TABLE_SIZE) return STATIC_NAMES[i]!;
    const d = i - STATIC_TABLE_SIZE;
    if (d < 1 || d > this.count) return null;
    return this.names[(this.head + this.count - d) % this.cap]!;
  }

  private valueAt(i: number): Buffer {
    if (i <= STATIC_TABLE_SIZE) return STATIC_VALUES[i]!;
    return this.values[(this.head + this.count - (i - STATIC_TABLE_SIZE)) % this.cap]!;
  }

  private decodeInner(b: Buffer, p: number, end: number, out: H2Header[]): number {
    let listSize = 0;
    let overflow = false;
    let fieldsSeen = false;
    while (p < end) {
      const c = b[p]!;
      let r: number;
      if (c & 0x80) {
        // §6.1 indexed field
        r = this.int(b, p, end, 7);
        if (r !== HPACK_OK) return r;
        p = this.ip;
        const name = this.nameAt(this.iv);
        if (name === null) return HPACK_ERR_INDEX;
        const value = this.valueAt(this.iv);
        fieldsSeen = true;
        listSize += name.length + value.length + ENTRY_OVERHEAD;
        if (listSize > this.maxListSize) overflow = true;
        else out.push({ name, value, neverIndexed: false });
        continue;
      }
      if ((c & 0xe0) === 0x20) {
        // §6.3 dynamic table size update: only before the first field of a block.
        r = this.int(b, p, end, 5);
        if (r !== HPACK_OK) return r;
        p = this.ip;
        if (fieldsSeen || this.iv > this.maxAllowed) return HPACK_ERR_SIZE_UPDATE;
        this.tableLimit = this.iv;
        this.lastSizeUpdate = this.iv;
        this.evictTo(this.iv);
        continue;
      }
      // Literals: 01xxxxxx incremental indexing (6-bit index), 0000xxxx without, 0001xxxx never indexed (4-bit).
      const incremental = (c & 0xc0) === 0x40;
      const never = !incremental && (c & 0xf0) === 0x10;
      r = this.int(b, p, end, incremental ? 6 : 4);
      if (r !== HPACK_OK) return r;
      p = this.ip;
      let name: Buffer;
      if (this.iv !== 0) {
        const n = this.nameAt(this.iv);
        if (n === null) return HPACK_ERR_INDEX;
        name = n;
      } else {
        r = this.str(b, p, end);
        if (r !== HPACK_OK) return r;
        p = this.ip;
        name = this.sv;
      }
      r = this.str(b, p, end);
      if (r !== HPACK_OK) return r;
      p = this.ip;
      const value = this.sv;
      fieldsSeen = true;
      if (incremental) this.insert(name, value);
      listSize += name.length + value.length + ENTRY_OVERHEAD;
      if (listSize > this.maxListSize) overflow = true;
      else out.push({ name, value, neverIndexed: never });
    }
    return overflow ? HPACK_ERR_LIST_TOO_LARGE : HPACK_OK;
  }
}
