/**
 * Per-client resolution table: "which name did this client resolve to get
 * this IP?" — the link from a connection to the domain behind it (a pod
 * opening 203.0.113.7:443 right after resolving pool.minexmr.com).
 *
 * Fed with DNS responses (`addResponse(clientIp, message, ts)`, once per
 * answer, not per packet), it maps (client, resolved IP) to the question
 * name, the CNAME chain that led to the address, and an expiry of
 * ts + min(TTL along the chain). `lookup(client, ip, now)` returns the most
 * recent unexpired resolution (plus `graceSec`: clients commonly connect
 * just after a TTL-0 answer or keep using an address a little past its TTL).
 *
 * Layout: a Map per client of Maps per IP, so a lookup is two hash probes
 * on strings the caller already has (no key concatenation, no allocation);
 * entries sit on an intrusive doubly-linked LRU list (insert, hit and evict
 * are O(1)). Memory is bounded by `maxEntries` (client, IP) pairs, each
 * remembering at most `maxNamesPerPair` names; evictions are counted.
 * Names are stored lowercased. Addresses are keyed as text in canonical
 * form (dotted quad; RFC 5952 for IPv6); IPv6 given in any other spelling
 * (EVE's full form `2001:0db8:0000:…`) is canonicalised on the way in.
 */
import { canonicalIp } from './address.js';
import type { DnsMessage } from './codec.js';

export interface DnsResolution {
  /** The name the client asked for (lowercased). */
  readonly name: string;
  /** CNAME targets followed from `name` to the address record, in order. */
  readonly cnames: readonly string[];
  /** When the answer was seen (seconds). */
  readonly resolvedAt: number;
  /** resolvedAt + the smallest TTL on the chain (seconds). */
  readonly expiresAt: number;
}

export interface DnsAnswerTableOptions {
  /** Most (client, IP) pairs kept; the least recently used is evicted beyond. Default 65536. */
  readonly maxEntries?: number;
  /** Distinct names remembered per (client, IP). Default 4. */
  readonly maxNamesPerPair?: number;
  /** Seconds an answer stays usable after its TTL ran out. Default 5. */
  readonly graceSec?: number;
}

export interface DnsAnswerTableStats {
  readonly entries: number;
  readonly inserted: number;
  readonly evicted: number;
  readonly expired: number;
}

class Entry {
  prev: Entry | null = null;
  next: Entry | null = null;
  /** Most recent first. */
  names: DnsResolution[] = [];
  constructor(
    readonly client: string,
    readonly ip: string,
  ) {}
}

/** Longest CNAME chain followed inside one response. */
const MAX_CHAIN = 16;

export class DnsAnswerTable {
  private readonly byClient = new Map<string, Map<string, Entry>>();
  private head: Entry | null = null; // most recently used
  private tail: Entry | null = null; // least recently used
  private count = 0;
  private inserted = 0;
  private evicted = 0;
  private expired = 0;
  readonly maxEntries: number;
  readonly maxNamesPerPair: number;
  readonly graceSec: number;

  constructor(opts: DnsAnswerTableOptions = {}) {
    this.maxEntries = Math.max(1, opts.maxEntries ?? 65536);
    this.maxNamesPerPair = Math.max(1, opts.maxNamesPerPair ?? 4);
    this.graceSec = Math.max(0, opts.graceSec ?? 5);
  }

  /**
   * Record the A/AAAA answers of a response seen by `clientIp` at `tsSec`.
   * Returns the number of (client, IP) resolutions recorded.
   */
  addResponse(clientIp: string, msg: DnsMessage, tsSec: number): number {
    if (!msg.qr || msg.answers.length === 0) return 0;
    const client = clientIp;
    const qname = msg.questions.length > 0 ? msg.questions[0].name.toLowerCase() : '';
    let cnames: Map<string, { target: string; ttl: number }> | null = null;
    for (const rr of msg.answers) {
      if (rr.data.kind === 'name' && rr.type === 5) {
        (cnames ??= new Map()).set(rr.name.toLowerCase(), { target: rr.data.name.toLowerCase(), ttl: rr.ttl });
      }
    }
    let added = 0;
    for (const rr of msg.answers) {
      const d = rr.data;
      if (d.kind !== 'a' && d.kind !== 'aaaa') continue;
      const owner = rr.name.toLowerCase();
      let ttl = rr.ttl;
      let name = owner;
      const chain: string[] = [];
      if (qname !== '' && qname !== owner && cnames !== null) {
        let cur = qname;
        let minTtl = ttl;
        for (let i = 0; i < MAX_CHAIN && cur !== owner; i++) {
          const c = cnames.get(cur);
          if (c === undefined) break;
          chain.push(c.target);
          if (c.ttl < minTtl) minTtl = c.ttl;
          cur = c.target;
        }
        if (cur === owner) {
          name = qname;
          ttl = minTtl;
        } else chain.length = 0;
      } else if (qname !== '' && qname === owner) name = qname;
      this.add(client, d.address, { name, cnames: chain, resolvedAt: tsSec, expiresAt: tsSec + ttl });
      added++;
    }
    return added;
  }

  /** Record one resolution directly. */
  add(client: string, ip: string, res: DnsResolution): void {
    if (client.includes(':')) client = canonicalIp(client);
    if (ip.includes(':')) ip = canonicalIp(ip);
    let inner = this.byClient.get(client);
    if (inner === undefined) {
      inner = new Map();
      this.byClient.set(client, inner);
    }
    let e = inner.get(ip);
    if (e === undefined) {
      if (this.count >= this.maxEntries) this.evictTail();
      e = new Entry(client, ip);
      inner.set(ip, e);
      this.count++;
      this.linkHead(e);
    } else {
      this.moveToHead(e);
      const i = e.names.findIndex((r) => r.name === res.name);
      if (i >= 0) e.names.splice(i, 1);
    }
    e.names.unshift(res);
    if (e.names.length > this.maxNamesPerPair) e.names.length = this.maxNamesPerPair;
    this.inserted++;
  }

  /** The latest resolution of `ip` by `client` still valid at `now` (seconds), or undefined. */
  lookup(client: string, ip: string, now: number): DnsResolution | undefined {
    // IPv6 may come in any spelling (EVE writes it in full); IPv4 costs nothing extra.
    if (client.includes(':')) client = canonicalIp(client);
    if (ip.includes(':')) ip = canonicalIp(ip);
    const inner = this.byClient.get(client);
    if (inner === undefined) return undefined;
    const e = inner.get(ip);
    if (e === undefined) return undefined;
    const names = e.names;
    for (let i = 0; i < names.length; i++) {
      if (now <= names[i].expiresAt + this.graceSec) {
        this.moveToHead(e);
        return names[i];
      }
    }
    this.remove(e);
    this.expired++;
    return undefined;
  }

  /** Drop every pair whose resolutions have all expired by `now`; returns how many. */
  prune(now: number): number {
    let n = 0;
    for (let e = this.tail; e !== null; ) {
      const prev: Entry | null = e.prev;
      if (e.names.every((r) => now > r.expiresAt + this.graceSec)) {
        this.remove(e);
        n++;
      }
      e = prev;
    }
    this.expired += n;
    return n;
  }

  get size(): number {
    return this.count;
  }

  stats(): DnsAnswerTableStats {
    return { entries: this.count, inserted: this.inserted, evicted: this.evicted, expired: this.expired };
  }

  private evictTail(): void {
    if (this.tail !== null) {
      this.remove(this.tail);
      this.evicted++;
    }
  }

  private remove(e: Entry): void {
    this.unlink(e);
    const inner = this.byClient.get(e.client);
    if (inner !== undefined) {
      inner.delete(e.ip);
      if (inner.size === 0) this.byClient.delete(e.client);
    }
    this.count--;
  }

  private linkHead(e: Entry): void {
    e.prev = null;
    e.next = this.head;
    if (this.head !== null) this.head.prev = e;
    this.head = e;
    if (this.tail === null) this.tail = e;
  }

  private unlink(e: Entry): void {
    if (e.prev !== null) e.prev.next = e.next;
    else this.head = e.next;
    if (e.next !== null) e.next.prev = e.prev;
    else this.tail = e.prev;
    e.prev = e.next = null;
  }

  private moveToHead(e: Entry): void {
    if (this.head === e) return;
    this.unlink(e);
    this.linkHead(e);
  }
}
