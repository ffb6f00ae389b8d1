/**
 * What a subject (a workload, namespace, node or source IP) normally does:
 * per-bucket rates with a running mean and variance, and first-seen /
 * last-seen sets of categorical values (peers, destinations, ports, …).
 *
 * Rates. One bucket (e.g. a minute of packet time) gives one observation per
 * rate. While the sensor learns, mean and variance are the exact running
 * (Welford) values over every bucket so far; afterwards they move slowly as an
 * exponentially weighted mean and variance (Finch 2009) with a configured
 * half-life, and an observation far above the expectation is winsorised
 * (clipped to mean + 3·scale) before it is learned, so an attack does not
 * teach the baseline that attacks are normal. Each rate also keeps 24
 * hour-of-day profiles, used once there are `hourlyAfterDays` days of history
 * and the hour slot has enough samples (traffic of 03:00 is judged against
 * other nights, not against the lunchtime peak).
 *
 * Scores are z-scores on a scale with a floor: max(sd, √mean, absFloor), so
 * a baseline that was always 0 or always exactly 4 does not call +1 an
 * anomaly, and the Poisson noise of a count is allowed for.
 *
 * Sets are bounded: beyond `max` entries the least recently seen value goes
 * (counted in `evicted`); a value evicted and seen again later will look new,
 * which is why the count is exposed.
 */

/** The per-subject rates, by index (one Float64Array slot each). */
export const RATE_NAMES = [
  'conn_out',
  'conn_in',
  'bytes_out',
  'bytes_in',
  'http_req_out',
  'http_req_in',
  'http_4xx',
  'http_5xx',
  'dns_query',
  'dns_nxdomain',
  'conn_external',
] as const;
export type RateName = (typeof RATE_NAMES)[number];
export const enum Rate {
  CONN_OUT = 0,
  CONN_IN = 1,
  BYTES_OUT = 2,
  BYTES_IN = 3,
  HTTP_REQ_OUT = 4,
  HTTP_REQ_IN = 5,
  HTTP_4XX = 6,
  HTTP_5XX = 7,
  DNS_QUERY = 8,
  DNS_NXDOMAIN = 9,
  CONN_EXTERNAL = 10,
}
export const NRATES = RATE_NAMES.length;

/** The per-subject categorical sets, by index. */
export const CATEGORY_NAMES = ['peer_out', 'peer_in', 'external', 'app_proto', 'port_out', 'port_in', 'tls_version', 'ja3'] as const;
export type CategoryName = (typeof CATEGORY_NAMES)[number];
export const enum Cat {
  PEER_OUT = 0,
  PEER_IN = 1,
  EXTERNAL = 2,
  APP_PROTO = 3,
  PORT_OUT = 4,
  PORT_IN = 5,
  TLS_VERSION = 6,
  JA3 = 7,
}
export const NCATS = CATEGORY_NAMES.length;

export interface Expectation {
  mean: number;
  sd: number;
  /** Samples behind it. */
  n: number;
  /** 'all' or 'hour' (hour-of-day profile). */
  basis: 'all' | 'hour';
}

/** Running mean/variance: exact while learning, exponentially weighted after. */
export class RateStat {
  n = 0;
  mean = 0;
  var = 0;
  /** 24 × (n, mean, var) hour-of-day profiles. */
  readonly hourly = new Float64Array(72);

  /**
   * Learn one bucket's value. `alpha` 0 means "learning": exact running
   * statistics; otherwise the EWMA weight of the new value. `hour` is the
   * bucket's hour of day (UTC, packet time), -1 to skip the profile.
   */
  update(x: number, alpha: number, hour: number): void {
    if (alpha > 0) {
      const cap = this.mean + 3 * Math.max(Math.sqrt(this.var), Math.sqrt(this.mean), 1);
      if (x > cap) x = cap;
    }
    step(this, 0, x, alpha);
    if (hour >= 0 && hour < 24) {
      const h = this.hourly;
      const o = hour * 3;
      // The hour slot learns exactly until it has 1/alpha samples, then decays like the whole.
      const a = alpha > 0 && h[o] >= 1 / alpha ? alpha : 0;
      const n = h[o] + 1;
      if (a === 0) {
        const d = x - h[o + 1];
        h[o + 1] += d / n;
        h[o + 2] += (d * (x - h[o + 1]) - h[o + 2]) / n;
      } else {
        const d = x - h[o + 1];
        const inc = a * d;
        h[o + 1] += inc;
        h[o + 2] = (1 - a) * (h[o + 2] + d * inc);
      }
      h[o] = n;
    }
  }

  /**
   * Learn `k` silent buckets at once (a subject that was quiet): exact while
   * learning (Welford's merge with k zeros), closed form for the weighted
   * mean afterwards ((1−α)^k), and for the weighted variance the decayed
   * variance plus the spread between the old mean and zero that the zeros
   * add. `hourCounts` (24 slots, may be null) gives how many of the k
   * buckets fall in each hour of day. No per-bucket loop: a subject silent
   * for a month costs the same as one silent for a minute.
   */
  zeros(k: number, alpha: number, hourCounts: Float64Array | null): void {
    if (k <= 0) return;
    zeroStep(this, k, alpha);
    if (hourCounts !== null) {
      const h = this.hourly;
      for (let i = 0; i < 24; i++) {
        const c = hourCounts[i];
        if (c <= 0) continue;
        const o = i * 3;
        const a = alpha > 0 && h[o] >= 1 / alpha ? alpha : 0;
        const s = { n: h[o], mean: h[o + 1], var: h[o + 2] };
        zeroStep(s, c, a);
        h[o] = s.n;
        h[o + 1] = s.mean;
        h[o + 2] = s.var;
      }
    }
  }

  /** What to expect: the hour profile when `useHour` and it has `minHour` samples, else the whole. */
  expected(hour: number, useHour: boolean, minHour: number): Expectation {
    if (useHour && hour >= 0 && hour < 24 && this.hourly[hour * 3] >= minHour) {
      const o = hour * 3;
      return { mean: this.hourly[o + 1], sd: Math.sqrt(Math.max(0, this.hourly[o + 2])), n: this.hourly[o], basis: 'hour' };
    }
    return { mean: this.mean, sd: Math.sqrt(Math.max(0, this.var)), n: this.n, basis: 'all' };
  }

  toJSON(): number[] {
    const h: number[] = [];
    for (let i = 0; i < 72; i++) h.push(round(this.hourly[i]));
    return [this.n, round(this.mean), round(this.var), ...h];
  }

  static fromJSON(a: unknown): RateStat {
    const r = new RateStat();
    if (!Array.isArray(a)) return r;
    r.n = num(a[0]);
    r.mean = num(a[1]);
    r.var = num(a[2]);
    for (let i = 0; i < 72 && i + 3 < a.length; i++) r.hourly[i] = num(a[i + 3]);
    return r;
  }
}

function step(r: RateStat, _o: number, x: number, alpha: number): void {
  if (alpha > 0 && r.n === 0) {
    // A subject first seen after learning was silent until now: its baseline starts at 0, not at its first bucket.
    r.n = 1;
  }
  if (alpha === 0) {
    r.n++;
    const d = x - r.mean;
    r.mean += d / r.n;
    r.var += (d * (x - r.mean) - r.var) / r.n;
  } else {
    r.n++;
    const d = x - r.mean;
    const inc = alpha * d;
    r.mean += inc;
    r.var = (1 - alpha) * (r.var + d * inc);
  }
}

function zeroStep(r: { n: number; mean: number; var: number }, k: number, alpha: number): void {
  if (alpha === 0) {
    const n = r.n + k;
    const mean = (r.mean * r.n) / n;
    r.var = Math.max(0, (r.n * (r.var + r.mean * r.mean)) / n - mean * mean);
    r.mean = mean;
    r.n = n;
    return;
  }
  if (r.n === 0) r.n = 1; // silent since learning ended: the baseline starts (and stays) at 0
  const keep = Math.pow(1 - alpha, k);
  const m = r.mean;
  r.mean = m * keep;
  r.var = r.var * keep + m * m * keep * (1 - keep);
  r.n += k;
}

/** Per hour-of-day slot, how many of the buckets [from, to) (bucket indices of `bucketSec` seconds) start in it. */
export function hourCounts(from: number, to: number, bucketSec: number, out: Float64Array): Float64Array {
  out.fill(0);
  const k = to - from;
  if (k <= 0) return out;
  const perDay = 86400 / bucketSec;
  // Whole days add the same count to every hour; only the remainder is walked, an hour at a time.
  const days = Math.floor(k / perDay);
  if (days > 0) out.fill((days * perDay) / 24);
  let b = from + days * perDay;
  while (b < to) {
    const t = b * bucketSec;
    const hour = Math.floor(t / 3600) % 24;
    const hourEnd = (Math.floor(t / 3600) + 1) * 3600;
    const next = Math.min(to, Math.ceil(hourEnd / bucketSec));
    const n = Math.max(1, next - b);
    out[hour] += n;
    b += n;
  }
  return out;
}

function round(x: number): number {
  return Math.abs(x) >= 1e6 ? Math.round(x) : Math.round(x * 1e4) / 1e4;
}

function num(x: unknown): number {
  const n = typeof x === 'number' ? x : Number(x);
  return Number.isFinite(n) ? n : 0;
}

/** Robust z-score of `x` against `e`, with the scale floored (see the module comment). */
export function robustZ(x: number, e: Expectation, absFloor: number): number {
  const scale = Math.max(e.sd, Math.sqrt(Math.max(0, e.mean)), absFloor);
  return (x - e.mean) / scale;
}

export interface Seen {
  first: number;
  last: number;
  n: number;
}

/** Bounded first-seen/last-seen set; least recently seen evicted first (approximately: see touch). */
export class CategorySet {
  readonly map = new Map<string, Seen>();
  evicted = 0;
  constructor(readonly max: number) {}

  has(k: string): boolean {
    return this.map.has(k);
  }

  /** Record `k` seen at `ts`; true when it was new. */
  touch(k: string, ts: number): boolean {
    const s = this.map.get(k);
    if (s !== undefined) {
      // Re-inserting moves the entry to the young end (Map order = eviction order);
      // done at most once an hour per value to keep the common case a plain update.
      if (ts - s.last > 3600) {
        this.map.delete(k);
        this.map.set(k, s);
      }
      s.last = ts;
      s.n++;
      return false;
    }
    if (this.map.size >= this.max) {
      const oldest = this.map.keys().next().value as string;
      this.map.delete(oldest);
      this.evicted++;
    }
    this.map.set(k, { first: ts, last: ts, n: 1 });
    return true;
  }

  toJSON(): { max: number; evicted: number; items: [string, number, number, number][] } {
    const items: [string, number, number, number][] = [];
    for (const [k, s] of this.map) items.push([k, s.first, s.last, s.n]);
    return { max: this.max, evicted: this.evicted, items };
  }

  static fromJSON(o: unknown, max: number): CategorySet {
    const c = new CategorySet(max);
    if (typeof o !== 'object' || o === null) return c;
    const rec = o as { evicted?: unknown; items?: unknown };
    c.evicted = num(rec.evicted);
    if (Array.isArray(rec.items)) {
      for (const it of rec.items) {
        if (!Array.isArray(it) || typeof it[0] !== 'string') continue;
        if (c.map.size >= max) {
          c.evicted++;
          continue;
        }
        c.map.set(it[0], { first: num(it[1]), last: num(it[2]), n: num(it[3]) });
      }
    }
    return c;
  }
}

/** HTTP rates of one route served by a subject. */
export class RouteStat {
  /** Counts in the open bucket: requests, 4xx, 5xx. */
  readonly cur = new Float64Array(3);
  readonly req = new RateStat();
  readonly e4 = new RateStat();
  readonly e5 = new RateStat();
  lastBucket = -1;
  /** Bucket the route was last touched (for LRU eviction among routes). */
  touched = 0;
}

import type { FlowModel } from './model/flow-model.js';

/** Aggregation level of a subject. */
export type SubjectLevel = 'workload' | 'namespace' | 'node' | 'ip';

/** One subject's baseline and its open bucket. */
export class SubjectBaseline {
  readonly rates: RateStat[] = [];
  /** Counts of the open bucket. */
  readonly cur = new Float64Array(NRATES);
  readonly cats: CategorySet[] = [];
  readonly routes = new Map<string, RouteStat>();
  routesEvicted = 0;
  /** Flow models by service: `out tcp/5432`, `in tcp/8080` (bounded per subject by the engine). */
  readonly models = new Map<string, FlowModel>();
  /** Packet time first and last seen. */
  firstSeen = 0;
  lastSeen = 0;
  /** Kubernetes namespace and workload name of a workload subject (mutes and overrides match on them). */
  ns: string | undefined = undefined;
  name: string | undefined = undefined;
  /** Last bucket folded into the statistics (-1 none). */
  lastBucket = -1;
  /** Bucket the open counts belong to (-1 none). */
  curBucket = -1;
  /** Alarm thresholds and expected values (counts per bucket) for the open bucket. */
  readonly thr = new Float64Array(NRATES);
  readonly base = new Float64Array(NRATES);
  readonly sd = new Float64Array(NRATES);
  /** Bit per rate: already raised in the open bucket. */
  fired = 0;
  /** Whether the open bucket is judged (learning over for this subject). */
  judged = false;
  /** Categorical findings raised in the open bucket (capped per bucket). */
  newInBucket = 0;

  constructor(
    readonly key: string,
    readonly level: SubjectLevel,
    maxSet: number,
  ) {
    for (let i = 0; i < NRATES; i++) this.rates.push(new RateStat());
    for (let i = 0; i < NCATS; i++) this.cats.push(new CategorySet(maxSet));
  }

  /** Rough heap bytes held (for the bench and stats): typed arrays plus set entries and routes. */
  get memoryBytes(): number {
    let b = 200 + NRATES * (72 * 8 + 64) + NRATES * 8;
    for (const c of this.cats) for (const k of c.map.keys()) b += 80 + 2 * k.length;
    b += this.routes.size * (3 * (72 * 8 + 64) + 120);
    return b;
  }
}
