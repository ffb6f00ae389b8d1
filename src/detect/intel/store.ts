/**
 * The compiled indicator store: IPv4/IPv6 ranges, domain suffix table, URL
 * and fingerprint/hash tables, all typed arrays; lookups return a match-set id
 * (or -1) and allocate nothing. A set lists metadata ids; metadata (feed,
 * category, tag, confidence, port) is deduplicated into a small table.
 *
 * File layout (little-endian; written by `writeIntelStore`, read by
 * `loadIntelStore` with typed-array views on the one file buffer):
 *   0   8  magic "HRNTINTL"
 *   8   4  format version (INTEL_VERSION)
 *   12  4  header JSON length H
 *   16  H  header JSON: names (feeds, categories, tags), counts, section list
 *          [{name, type: 'u32'|'u8'|'i32', length}] in file order
 *   then   sections, each starting at a multiple of 8.
 */
import { closeSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { HarrierError } from '../../errors.js';
import { indexV4, lookupV4, lookupV4Batch, lookupV6, lookupV6Words, V4_BATCH, v4Count, type V4Ranges, type V6Ranges } from './ranges.js';
import { StringTable, type StringTableArrays } from './string-table.js';
import { HASH_KINDS, type HashKind } from './types.js';

export const INTEL_MAGIC = 'HRNTINTL';
/**
 * 2: the domain table holds parent-suffix markers (string-table.ts); a v1 file would make lookups stop early.
 * 3: IPv4 ranges interleaved (`v4.ranges`), string tables as records (`.slots`, `.blob`, `.info`).
 * Older files are refused with a one-line error saying to recompile (`harrier intel update`).
 */
export const INTEL_VERSION = 3;

/** Metadata table: one row per distinct (feed, category, tag, confidence, port). */
export interface MetaTable {
  feed: Uint32Array;
  category: Uint32Array;
  /** Index into tags, or 0xffffffff for none. */
  tag: Uint32Array;
  /** 0..100, or -1. */
  confidence: Int32Array;
  /** 0 = any port. */
  port: Uint32Array;
}

export interface IntelStoreParts {
  feeds: string[];
  categories: string[];
  tags: string[];
  meta: MetaTable;
  /** Set s holds meta ids setMembers[setOff[s] .. setOff[s+1]). */
  setOff: Uint32Array;
  setMembers: Uint32Array;
  v4: V4Ranges;
  v6: V6Ranges;
  domains: StringTable;
  urls: StringTable;
  hashes: Record<HashKind, StringTable>;
}

/** One metadata row, materialised for an alert (allocates; not for the hot path). */
export interface IntelMatch {
  feed: string;
  category: string;
  tag: string | null;
  confidence: number;
  port: number;
}

const NO_TAG = 0xffffffff;

export class IntelStore {
  private readonly v4Scratch = new Int32Array(2 * V4_BATCH);
  /** Sink of the batch lookups' early reads. */
  private touched = 0;

  constructor(readonly p: IntelStoreParts) {
    if (p.v4.block === undefined) indexV4(p.v4);
  }

  // ---- lookups: set id or -1, no allocation ----

  /** IPv4 as unsigned 32-bit (host order value of the dotted quad). */
  lookupIPv4(ip: number): number {
    return lookupV4(this.p.v4, ip >>> 0);
  }

  /**
   * out[i] = lookupIPv4(ips[i]) for i < n: several lookups overlap their
   * cache misses (ranges.ts lookupV4Batch) — for callers holding many
   * addresses at once (a DNS answer's records, a batch of new flows).
   */
  lookupIPv4Batch(ips: ArrayLike<number>, out: Int32Array, n = Math.min(ips.length, out.length)): void {
    this.touched ^= lookupV4Batch(this.p.v4, ips, n, out, this.v4Scratch);
  }

  /** IPv6 address bytes b[off..off+16) (network order, e.g. straight from the packet). */
  lookupIPv6(b: Uint8Array, off: number): number {
    return lookupV6(this.p.v6, b, off);
  }

  /** IPv6 as four big-endian words (Packet.src6, Flow.server6). */
  lookupIPv6Words(w: Uint32Array): number {
    return lookupV6Words(this.p.v6, w);
  }

  /**
   * Domain lookup returning the matched table entry (-1 if none): its set is
   * `domainEntrySet(e)`, the listed name `domainEntryName(e)` — for alerts,
   * which must say which listed name (`evil.com`) a query (`a.b.evil.com`) hit.
   */
  lookupDomainEntry(name: string): number {
    return this.p.domains.suffixEntry(name);
  }

  lookupDomainEntryBytes(b: Uint8Array, start: number, end: number): number {
    return this.p.domains.suffixEntryBytes(b, start, end);
  }

  domainEntrySet(e: number): number {
    return this.p.domains.entrySet(e);
  }

  domainEntryName(e: number): string {
    return this.p.domains.entryString(e);
  }

  /** Exact or parent-domain match (most specific entry wins); case-insensitive, trailing dot ignored. */
  lookupDomain(name: string): number {
    return this.p.domains.suffix(name);
  }

  lookupDomainBytes(b: Uint8Array, start: number, end: number): number {
    return this.p.domains.suffixBytes(b, start, end);
  }

  /** out[i] = lookupDomainBytes(b, offs[i], offs[i + 1]) for i < n, overlapping cache misses (string-table.ts). */
  lookupDomainBytesBatch(b: Uint8Array, offs: ArrayLike<number>, out: Int32Array, n = Math.min(offs.length - 1, out.length)): void {
    this.p.domains.suffixBytesBatch(b, offs, n, out);
  }

  /** out[i] = lookupDomain(names[i]) for i < n, overlapping cache misses. */
  lookupDomainBatch(names: readonly string[], out: Int32Array, n = Math.min(names.length, out.length)): void {
    this.p.domains.suffixBatch(names, n, out);
  }

  /** Exact match of a URL key as produced by normalizeUrl() (`host[:port]/path?query`). */
  lookupUrl(key: string): number {
    return this.p.urls.exact(key);
  }

  /** Exact match of a hex digest / fingerprint (case-insensitive). */
  lookupHash(kind: HashKind, value: string): number {
    return this.p.hashes[kind].exact(value);
  }

  lookupHashBytes(kind: HashKind, b: Uint8Array, start: number, end: number): number {
    return this.p.hashes[kind].exactBytes(b, start, end);
  }

  // ---- match sets and metadata ----

  setSize(set: number): number {
    return this.p.setOff[set + 1] - this.p.setOff[set];
  }

  /** Meta id of the i-th member of a set. */
  setMember(set: number, i: number): number {
    return this.p.setMembers[this.p.setOff[set] + i];
  }

  /** True when some entry of the set applies to this destination port (its port is 0 or equal). */
  portMatches(set: number, port: number): boolean {
    const { setOff, setMembers, meta } = this.p;
    for (let i = setOff[set]; i < setOff[set + 1]; i++) {
      const p = meta.port[setMembers[i]];
      if (p === 0 || p === port) return true;
    }
    return false;
  }

  meta(id: number): IntelMatch {
    const m = this.p.meta;
    return {
      feed: this.p.feeds[m.feed[id]],
      category: this.p.categories[m.category[id]],
      tag: m.tag[id] === NO_TAG ? null : this.p.tags[m.tag[id]],
      confidence: m.confidence[id],
      port: m.port[id],
    };
  }

  /** All metadata rows of a set (for building an alert). */
  describe(set: number): IntelMatch[] {
    const out: IntelMatch[] = [];
    for (let i = 0; i < this.setSize(set); i++) out.push(this.meta(this.setMember(set, i)));
    return out;
  }

  /** Counts of compiled entries (ranges after merging; table entries). */
  counts(): Record<string, number> {
    const c: Record<string, number> = {
      ipv4Ranges: v4Count(this.p.v4),
      ipv6Ranges: this.p.v6.set.length,
      domains: this.p.domains.listed,
      urls: this.p.urls.size,
    };
    for (const k of HASH_KINDS) c[k] = this.p.hashes[k].size;
    c.metadata = this.p.meta.feed.length;
    c.sets = this.p.setOff.length - 1;
    return c;
  }
}

type ArrayKind = 'u32' | 'i32' | 'u8';
interface SectionDesc {
  name: string;
  type: ArrayKind;
  length: number;
}
interface Header {
  feeds: string[];
  categories: string[];
  tags: string[];
  sections: SectionDesc[];
}

function sections(p: IntelStoreParts): Array<[string, Uint32Array | Int32Array | Uint8Array]> {
  const out: Array<[string, Uint32Array | Int32Array | Uint8Array]> = [
    ['meta.feed', p.meta.feed],
    ['meta.category', p.meta.category],
    ['meta.tag', p.meta.tag],
    ['meta.confidence', p.meta.confidence],
    ['meta.port', p.meta.port],
    ['set.off', p.setOff],
    ['set.members', p.setMembers],
    ['v4.ranges', p.v4.ranges],
    ['v6.start', p.v6.start],
    ['v6.end', p.v6.end],
    ['v6.set', p.v6.set],
  ];
  const tables: Array<[string, StringTable]> = [
    ['domains', p.domains],
    ['urls', p.urls],
    ...HASH_KINDS.map((k): [string, StringTable] => [k, p.hashes[k]]),
  ];
  for (const [name, t] of tables) {
    out.push([`${name}.slots`, t.a.slots], [`${name}.info`, t.a.info], [`${name}.blob`, t.a.blob]);
  }
  return out;
}

/** Writes the store to `path` atomically (temporary file, then rename). */
export function writeIntelStore(store: IntelStore, path: string): number {
  const secs = sections(store.p);
  const header: Header = {
    feeds: store.p.feeds,
    categories: store.p.categories,
    tags: store.p.tags,
    sections: secs.map(([name, a]) => ({
      name,
      type: a instanceof Uint8Array ? 'u8' : a instanceof Int32Array ? 'i32' : 'u32',
      length: a.length,
    })),
  };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const pre = Buffer.alloc(16);
  pre.write(INTEL_MAGIC, 0, 'latin1');
  pre.writeUInt32LE(INTEL_VERSION, 8);
  pre.writeUInt32LE(json.length, 12);
  const tmp = `${path}.tmp-${process.pid}`;
  let fd: number;
  try {
    fd = openSync(tmp, 'w');
  } catch (e) {
    throw new HarrierError('HARRIER_ERR_OUTPUT', `cannot write intel store ${path}: ${(e as Error).message}`, { cause: e });
  }
  let pos = 0;
  const pad = Buffer.alloc(8);
  const put = (b: Uint8Array): void => {
    let done = 0;
    while (done < b.length) done += writeSync(fd, b, done, b.length - done);
    pos += b.length;
  };
  try {
    put(pre);
    put(json);
    for (const [, a] of secs) {
      if (pos % 8) put(pad.subarray(0, 8 - (pos % 8)));
      put(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    }
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  return pos;
}

/** Loads a compiled store: one read, then typed-array views on the buffer. */
export function loadIntelStore(path: string): IntelStore {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new HarrierError('HARRIER_ERR_INPUT_OPEN', `cannot read intel store ${path}: ${(e as Error).message}`, { cause: e });
  }
  return intelStoreFromBuffer(buf, path);
}

function ranges4(ranges: Uint32Array): V4Ranges {
  if (ranges.length % 3 !== 0) throw new HarrierError('HARRIER_ERR_INTEL_STORE', 'intel store: inconsistent section v4.ranges');
  return { ranges };
}

export function intelStoreFromBuffer(buf: Buffer, what = 'intel store'): IntelStore {
  const bad = (why: string): HarrierError => new HarrierError('HARRIER_ERR_INTEL_STORE', `${what}: ${why}`);
  if (buf.length < 16 || buf.toString('latin1', 0, 8) !== INTEL_MAGIC) throw bad('not a Harrier intel store (bad magic)');
  const ver = buf.readUInt32LE(8);
  if (ver !== INTEL_VERSION) throw bad(`format version ${ver}, this Harrier reads version ${INTEL_VERSION}: recompile it from the feeds (harrier intel update)`);
  const hlen = buf.readUInt32LE(12);
  if (16 + hlen > buf.length) throw bad('truncated header');
  let header: Header;
  try {
    header = JSON.parse(buf.toString('utf8', 16, 16 + hlen)) as Header;
  } catch {
    throw bad('corrupt header');
  }
  // Typed-array views need aligned offsets; readFileSync gives a fresh buffer at offset 0, copy otherwise.
  if (buf.byteOffset % 8 !== 0) buf = Buffer.from(buf);
  const views = new Map<string, Uint32Array | Int32Array | Uint8Array>();
  let pos = 16 + hlen;
  for (const s of header.sections ?? []) {
    if (pos % 8) pos += 8 - (pos % 8);
    const size = s.type === 'u8' ? 1 : 4;
    if (!Number.isInteger(s.length) || s.length < 0 || pos + s.length * size > buf.length) throw bad(`truncated section ${s.name}`);
    const off = buf.byteOffset + pos;
    views.set(
      s.name,
      s.type === 'u8' ? new Uint8Array(buf.buffer, off, s.length) : s.type === 'i32' ? new Int32Array(buf.buffer, off, s.length) : new Uint32Array(buf.buffer, off, s.length),
    );
    pos += s.length * size;
  }
  const get = <T extends Uint32Array | Int32Array | Uint8Array>(name: string, ctor: new (...a: never[]) => T): T => {
    const v = views.get(name);
    if (!(v instanceof ctor)) throw bad(`missing section ${name}`);
    return v;
  };
  const table = (name: string, fold: boolean): StringTable => {
    const a: StringTableArrays = {
      slots: get(`${name}.slots`, Uint32Array),
      info: get(`${name}.info`, Uint32Array),
      blob: get(`${name}.blob`, Uint8Array),
    };
    const cap = a.slots.length / 2;
    if (cap < 1 || (cap & (cap - 1)) !== 0 || a.info.length !== 2 || a.info[1] > a.info[0] || a.info[0] >= cap) {
      throw bad(`inconsistent table ${name}`);
    }
    // Every slot must point at a record inside the blob (lookups never read past it), and one
    // slot at least must be empty (a probe ends at an empty slot: a full table would never end).
    const blobLen = a.blob.length;
    let used = 0;
    for (let s = 1; s < a.slots.length; s += 2) {
      if (a.slots[s] === 0) continue;
      if (a.slots[s] + 5 > blobLen) throw bad(`inconsistent table ${name}`);
      used++;
    }
    if (used >= cap) throw bad(`inconsistent table ${name}`);
    return new StringTable(a, fold);
  };
  const hashes = {} as Record<HashKind, StringTable>;
  for (const k of HASH_KINDS) hashes[k] = table(k, true);
  return new IntelStore({
    feeds: header.feeds,
    categories: header.categories,
    tags: header.tags,
    meta: {
      feed: get('meta.feed', Uint32Array),
      category: get('meta.category', Uint32Array),
      tag: get('meta.tag', Uint32Array),
      confidence: get('meta.confidence', Int32Array),
      port: get('meta.port', Uint32Array),
    },
    setOff: get('set.off', Uint32Array),
    setMembers: get('set.members', Uint32Array),
    v4: ranges4(get('v4.ranges', Uint32Array)),
    v6: { start: get('v6.start', Uint32Array), end: get('v6.end', Uint32Array), set: get('v6.set', Uint32Array) },
    domains: table('domains', true),
    urls: table('urls', false),
    hashes,
  });
}
