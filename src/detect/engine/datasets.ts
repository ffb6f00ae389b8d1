/**
 * Datasets for the `dataset` keyword (Suricata 7 user guide, "Datasets"):
 * named sets of byte strings that rules test (`isset`, `isnotset`) and
 * change (`set`, `unset`) with the current buffer.
 *
 * File formats (`load`/`state`), one item per line:
 *  - string: the item base64-encoded (a `,<reputation>` suffix, as in
 *    datarep files, is ignored);
 *  - md5 / sha256: the digest as hex; the buffer is matched as the raw
 *    digest (16/32 bytes, what the `to_md5`/`to_sha256` transforms give) or
 *    as its hex text (32/64 characters, e.g. `ja3.hash`);
 *  - ipv4 / ipv6 / ip: addresses as text; the buffer holds the raw address.
 *
 * Storage is an open-addressing hash set over a byte pool (FNV-1a), so a
 * lookup hashes the buffer bytes in place without making a string.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';

export type DatasetType = 'string' | 'md5' | 'sha256' | 'ipv4' | 'ipv6' | 'ip';

/** A growable set of byte strings. */
export class ByteSet {
  private pool = new Uint8Array(1024);
  private poolUsed = 0;
  private start = new Int32Array(64);
  private len = new Int32Array(64);
  private alive = new Uint8Array(64);
  private entries = 0;
  private live = 0;
  /** slot → entry index + 1 (0 empty). Deleted entries stay in their slot with alive = 0. */
  private slots = new Int32Array(128);

  get size(): number {
    return this.live;
  }

  has(b: Uint8Array, off = 0, n = b.length - off): boolean {
    return this.find(b, off, n) >= 0;
  }

  /** Add; true when it was not present. */
  add(b: Uint8Array, off = 0, n = b.length - off): boolean {
    const e = this.findEntry(b, off, n);
    if (e >= 0) {
      if (this.alive[e]) return false;
      this.alive[e] = 1;
      this.live++;
      return true;
    }
    if ((this.entries + 1) * 2 > this.slots.length) this.rehash(this.slots.length * 2);
    if (this.entries === this.start.length) this.growEntries();
    while (this.poolUsed + n > this.pool.length) {
      const p = new Uint8Array(this.pool.length * 2);
      p.set(this.pool.subarray(0, this.poolUsed));
      this.pool = p;
    }
    const idx = this.entries++;
    this.pool.set(b.subarray(off, off + n), this.poolUsed);
    this.start[idx] = this.poolUsed;
    this.len[idx] = n;
    this.alive[idx] = 1;
    this.poolUsed += n;
    this.live++;
    this.insertSlot(idx, fnv(b, off, n));
    return true;
  }

  /** Remove; true when it was present. */
  delete(b: Uint8Array, off = 0, n = b.length - off): boolean {
    const e = this.find(b, off, n);
    if (e < 0) return false;
    this.alive[e] = 0;
    this.live--;
    return true;
  }

  /** Live items, in insertion order (for saving state). */
  *items(): IterableIterator<Uint8Array> {
    for (let i = 0; i < this.entries; i++) if (this.alive[i]) yield this.pool.subarray(this.start[i], this.start[i] + this.len[i]);
  }

  private find(b: Uint8Array, off: number, n: number): number {
    const e = this.findEntry(b, off, n);
    return e >= 0 && this.alive[e] ? e : -1;
  }

  private findEntry(b: Uint8Array, off: number, n: number): number {
    const mask = this.slots.length - 1;
    let s = fnv(b, off, n) & mask;
    for (;;) {
      const v = this.slots[s];
      if (v === 0) return -1;
      const e = v - 1;
      if (this.len[e] === n) {
        const st = this.start[e];
        let k = 0;
        while (k < n && this.pool[st + k] === b[off + k]) k++;
        if (k === n) return e;
      }
      s = (s + 1) & mask;
    }
  }

  private insertSlot(idx: number, h: number): void {
    const mask = this.slots.length - 1;
    let s = h & mask;
    while (this.slots[s] !== 0) s = (s + 1) & mask;
    this.slots[s] = idx + 1;
  }

  private rehash(size: number): void {
    this.slots = new Int32Array(size);
    for (let i = 0; i < this.entries; i++) this.insertSlot(i, fnv(this.pool, this.start[i], this.len[i]));
  }

  private growEntries(): void {
    const n = this.start.length * 2;
    const s = new Int32Array(n);
    s.set(this.start);
    const l = new Int32Array(n);
    l.set(this.len);
    const a = new Uint8Array(n);
    a.set(this.alive);
    this.start = s;
    this.len = l;
    this.alive = a;
  }
}

function fnv(b: Uint8Array, off: number, n: number): number {
  let h = 0x811c9dc5;
  for (let i = off; i < off + n; i++) h = Math.imul(h ^ b[i], 0x01000193);
  return h >>> 0;
}

export class Dataset {
  readonly items = new ByteSet();
  constructor(
    readonly name: string,
    readonly type: DatasetType,
    readonly statePath: string | null,
  ) {}

  /** Normalised key of the buffer for this type, written into scratch; returns its length or -1 when the buffer cannot be a key. */
  private key(b: Uint8Array, off: number, n: number, scratch: Uint8Array): number {
    if (this.type === 'md5' || this.type === 'sha256') {
      const raw = this.type === 'md5' ? 16 : 32;
      if (n === raw) {
        for (let i = 0; i < n; i++) scratch[i] = b[off + i];
        return raw;
      }
      if (n === raw * 2) {
        for (let i = 0; i < raw; i++) {
          const hi = hexVal(b[off + 2 * i]);
          const lo = hexVal(b[off + 2 * i + 1]);
          if (hi < 0 || lo < 0) return -1;
          scratch[i] = (hi << 4) | lo;
        }
        return raw;
      }
      return -1;
    }
    if (this.type === 'ip' && n === 4) {
      // Type ip keeps every address in 16 bytes, IPv4 as IPv4-mapped IPv6 (::ffff:a.b.c.d), so an
      // IPv4 packet's 4-byte ip.src/ip.dst finds a `::ffff:…` line (suricata-verify datasets-09-load).
      scratch.fill(0, 0, 10);
      scratch[10] = 0xff;
      scratch[11] = 0xff;
      for (let i = 0; i < 4; i++) scratch[12 + i] = b[off + i];
      return 16;
    }
    return -2; // use the bytes as they are
  }

  private readonly scratch = new Uint8Array(32);

  has(b: Uint8Array, off: number, n: number): boolean {
    const k = this.key(b, off, n, this.scratch);
    if (k === -1) return false;
    return k === -2 ? this.items.has(b, off, n) : this.items.has(this.scratch, 0, k);
  }

  add(b: Uint8Array, off: number, n: number): boolean {
    const k = this.key(b, off, n, this.scratch);
    if (k === -1) return false;
    return k === -2 ? this.items.add(b, off, n) : this.items.add(this.scratch, 0, k);
  }

  remove(b: Uint8Array, off: number, n: number): boolean {
    const k = this.key(b, off, n, this.scratch);
    if (k === -1) return false;
    return k === -2 ? this.items.delete(b, off, n) : this.items.delete(this.scratch, 0, k);
  }

  /** Parse one line of a load/state file and add it; false when malformed. */
  addLine(line: string): boolean {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) return true;
    const first = t.split(',')[0].trim();
    switch (this.type) {
      case 'string': {
        if (!/^[A-Za-z0-9+/]*={0,2}$/.test(first)) return false;
        this.items.add(Buffer.from(first, 'base64'));
        return true;
      }
      case 'md5':
      case 'sha256': {
        const want = this.type === 'md5' ? 32 : 64;
        if (first.length !== want || !/^[0-9a-fA-F]+$/.test(first)) return false;
        this.items.add(Buffer.from(first, 'hex'));
        return true;
      }
      default: {
        const v = isIP(first);
        if (v === 0 || (this.type === 'ipv4' && v !== 4) || (this.type === 'ipv6' && v !== 6)) return false;
        const raw = ipBytes(first, v);
        if (this.type === 'ip' && raw.length === 4) {
          const m = new Uint8Array(16);
          m[10] = 0xff;
          m[11] = 0xff;
          m.set(raw, 12);
          this.items.add(m);
        } else this.items.add(raw);
        return true;
      }
    }
  }

  /** Serialise in the load-file format. */
  serialize(): string {
    const lines: string[] = [];
    for (const it of this.items.items()) {
      const b = Buffer.from(it);
      if (this.type === 'string') lines.push(b.toString('base64'));
      else if (this.type === 'md5' || this.type === 'sha256') lines.push(b.toString('hex'));
      else lines.push(b.length === 4 ? Array.from(b).join('.') : ipv6Text(b));
    }
    return lines.length ? lines.join('\n') + '\n' : '';
  }
}

function hexVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}

function ipBytes(s: string, v: number): Uint8Array {
  if (v === 4) return Uint8Array.from(s.split('.').map(Number));
  // Expand IPv6 text (with optional embedded IPv4) to 16 bytes.
  let text = s;
  const tail: number[] = [];
  const m = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (m) {
    tail.push(...m[1].split('.').map(Number));
    text = text.slice(0, -m[1].length) + '0:0';
  }
  const [head, rest] = text.split('::');
  const h = head ? head.split(':').filter((x) => x !== '') : [];
  const r = rest !== undefined && rest ? rest.split(':').filter((x) => x !== '') : [];
  const fill = 8 - h.length - r.length;
  const words = [...h, ...Array(rest !== undefined ? fill : 0).fill('0'), ...r].map((x) => parseInt(x, 16));
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = (words[i] >> 8) & 0xff;
    out[2 * i + 1] = words[i] & 0xff;
  }
  if (tail.length === 4) out.set(tail, 12);
  return out;
}

function ipv6Text(b: Buffer): string {
  const w: string[] = [];
  for (let i = 0; i < 16; i += 2) w.push(((b[i] << 8) | b[i + 1]).toString(16));
  return w.join(':');
}

/** Datasets by name, shared by every rule of an engine. */
export class DatasetRegistry {
  private readonly sets = new Map<string, Dataset>();

  /**
   * The dataset `name`, created (and loaded from `load`, then `state` when
   * that file exists) on first use. Throws Error with a one-line reason when
   * a second rule declares the same name with another type, or when a file
   * cannot be read or has a malformed line.
   */
  get(name: string, type: DatasetType, load: string | null, state: string | null): Dataset {
    const have = this.sets.get(name);
    if (have) {
      if (have.type !== type) throw new Error(`dataset ${name} is type ${have.type}, not ${type}`);
      return have;
    }
    const ds = new Dataset(name, type, state);
    for (const path of [load, state]) {
      if (path === null || (path === state && !existsSync(path))) continue;
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (e) {
        throw new Error(`dataset ${name}: cannot read ${path}: ${(e as Error).message}`);
      }
      const lines = text.split('\n');
      for (let i = 0; i < lines.length; i++) {
        if (!ds.addLine(lines[i])) throw new Error(`dataset ${name}: ${path}:${i + 1}: not a valid ${type} item`);
      }
    }
    this.sets.set(name, ds);
    return ds;
  }

  /** Look a dataset up without creating it. */
  find(name: string): Dataset | undefined {
    return this.sets.get(name);
  }

  /** Write every dataset that has a `state` file (Suricata does this at shutdown). */
  saveState(): void {
    for (const ds of this.sets.values()) if (ds.statePath) writeFileSync(ds.statePath, ds.serialize());
  }
}

/** The registry used when a caller does not pass its own. */
export const defaultDatasets = new DatasetRegistry();
