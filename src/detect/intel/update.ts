/**
 * `harrier intel update`: fetch the configured feeds, validate them, keep the
 * last good copy of each, compile everything into a store and swap it in
 * atomically.
 *
 * Per feed with a `url:`
 *   - conditional GET (If-None-Match / If-Modified-Since from the state file)
 *     when a last good copy exists; 304 keeps the copy;
 *   - timeouts, connection errors, 5xx, 408 and 429 are retried with
 *     exponential backoff (`update.retries`, `update.backoff`); other 4xx are
 *     not; redirects are followed (at most 5);
 *   - the body is streamed and cut off at the size limit (the feed's
 *     `max-size`, else `update.max-size`): an oversize feed is a failure;
 *   - validation: the body is parsed (format detected or configured); a feed
 *     that yields no indicator, or whose malformed lines exceed
 *     1 − `update.min-valid` of its candidate lines, is refused (an HTML error
 *     page served with 200 is the usual case);
 *   - on success the body replaces the copy (temp file + rename) and the
 *     validators are saved; on any failure the last good copy stays and is
 *     used, and the report line says so.
 * Feeds with a `path:` are read as they are (offline use).
 *
 * Then every feed's current copy is compiled into one store, written to a
 * temporary file and renamed over the target (writeIntelStore), so a
 * running reader never sees a half-written store. One line per feed goes to
 * the log; nothing here throws for a single feed's failure. It throws
 * (HARRIER_ERR_INTEL_UPDATE) only when no feed at all could be compiled, and
 * then the existing store is left untouched.
 *
 * Files in the state folder (default: `<store>.d/`): `<name>.feed` (last good
 * copy), `state.json` ({name: {url, etag, lastModified, fetchedAt, fileName}}).
 */
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync, existsSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { rootCertificates } from 'node:tls';
import { basename, dirname, join } from 'node:path';
import { HarrierError } from '../../errors.js';
import { IntelStoreBuilder } from './builder.js';
import type { IntelConfig, IntelFeedConfig } from './config.js';
import { loadFeeds, parseFeedText, type FeedSpec } from './feeds/registry.js';
import { confidenceSink } from './load.js';
import { writeIntelStore } from './store.js';
import type { FeedReport, IndicatorSink } from './types.js';

export type FeedStatus = 'updated' | 'not-modified' | 'local' | 'kept' | 'failed';

export interface FeedOutcome {
  name: string;
  status: FeedStatus;
  /** The one report line for this feed. */
  line: string;
  indicators: number;
  malformed: number;
}

export interface UpdateResult {
  outcomes: FeedOutcome[];
  store: string;
  bytes: number;
  indicators: number;
}

export interface UpdateOptions {
  /** Where the compiled store goes (default: intel.store of the config). */
  out?: string;
  log?: (line: string) => void;
  /** Sleep between retries (tests pass a fast one). */
  sleep?: (ms: number) => Promise<void>;
}

interface FeedState {
  url: string;
  etag?: string;
  lastModified?: string;
  fetchedAt: string;
  fileName: string;
}

class FetchError extends Error {
  constructor(
    message: string,
    readonly retry: boolean,
  ) {
    super(message);
  }
}

interface Fetched {
  status: number;
  body: Buffer | null;
  etag?: string;
  lastModified?: string;
}

/** One GET with a deadline and a size limit; follows redirects. */
function fetchOnce(url: string, headers: Record<string, string>, timeoutMs: number, maxBytes: number, ca: string[] | undefined, redirects = 5): Promise<Fetched> {
  return new Promise((resolve, reject) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      reject(new FetchError(`bad URL ${url}`, false));
      return;
    }
    const mod = u.protocol === 'https:' ? https : u.protocol === 'http:' ? http : null;
    if (mod === null) {
      reject(new FetchError(`unsupported scheme ${u.protocol}`, false));
      return;
    }
    let done = false;
    const fail = (e: FetchError): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.destroy();
      reject(e);
    };
    const req = mod.get(u, { headers: { 'user-agent': 'harrier-intel-update', ...headers }, ...(u.protocol === 'https:' && ca ? { ca } : {}) }, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && status !== 304 && res.headers.location) {
        res.resume();
        if (redirects <= 0) return fail(new FetchError('too many redirects', false));
        done = true;
        clearTimeout(timer);
        const next = new URL(res.headers.location, u).toString();
        fetchOnce(next, headers, timeoutMs, maxBytes, ca, redirects - 1).then(resolve, reject);
        return;
      }
      if (status !== 200) {
        res.resume();
        if (status === 304) {
          done = true;
          clearTimeout(timer);
          resolve({ status, body: null });
          return;
        }
        return fail(new FetchError(`HTTP ${status}`, status >= 500 || status === 408 || status === 429));
      }
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > maxBytes) return fail(new FetchError(`larger than the ${maxBytes}-byte limit (Content-Length ${declared})`, false));
      const parts: Buffer[] = [];
      let got = 0;
      res.on('data', (c: Buffer) => {
        got += c.length;
        if (got > maxBytes) return fail(new FetchError(`larger than the ${maxBytes}-byte limit`, false));
        parts.push(c);
      });
      res.on('end', () => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        const h = (k: string): string | undefined => {
          const v = res.headers[k];
          return typeof v === 'string' ? v : undefined;
        };
        resolve({ status, body: Buffer.concat(parts), etag: h('etag'), lastModified: h('last-modified') });
      });
      res.on('error', (e) => fail(new FetchError(e.message, true)));
    });
    const timer = setTimeout(() => fail(new FetchError(`no complete answer within ${timeoutMs / 1000} s`, true)), timeoutMs);
    req.on('error', (e) => fail(new FetchError((e as NodeJS.ErrnoException).code ?? e.message, true)));
  });
}

const COUNT_ONLY: IndicatorSink = { add() {} };

function total(r: FeedReport): number {
  let n = 0;
  for (const v of Object.values(r.counts)) n += v;
  return n;
}

function specOf(f: IntelFeedConfig): FeedSpec {
  return { name: f.name, ...(f.format !== null ? { format: f.format } : {}), ...(f.category !== null ? { category: f.category } : {}) };
}

/** Why a parsed feed is refused, or null when it is acceptable. */
export function refuseReason(r: FeedReport, minValid: number): string | null {
  const n = total(r);
  if (n === 0) return `parses to no indicator (${r.lines} lines, ${r.malformed} malformed)`;
  const cand = n + r.malformed;
  if (r.malformed / cand > 1 - minValid) return `mostly malformed (${r.malformed} of ${cand} lines)`;
  return null;
}

function atomicWrite(path: string, data: Buffer | string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

function mtimeText(path: string): string {
  try {
    return statSync(path).mtime.toISOString().replace(/\.\d+Z$/, 'Z');
  } catch {
    return '?';
  }
}

export async function updateIntel(cfg: IntelConfig, opts: UpdateOptions = {}): Promise<UpdateResult> {
  const out = opts.out ?? cfg.store;
  if (!out) throw new HarrierError('HARRIER_ERR_USAGE', 'intel update: no output store (give --out or set intel.store in the config)');
  if (cfg.feeds.length === 0) throw new HarrierError('HARRIER_ERR_CONFIG', 'intel update: the config lists no intel.feeds');
  const log = opts.log ?? ((): void => {});
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const stateDir = cfg.stateDir ?? `${out}.d`;
  try {
    mkdirSync(stateDir, { recursive: true });
    mkdirSync(dirname(out), { recursive: true });
  } catch (e) {
    throw new HarrierError('HARRIER_ERR_OUTPUT', `intel update: cannot create ${stateDir}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  const statePath = join(stateDir, 'state.json');
  let state: Record<string, FeedState> = {};
  try {
    state = JSON.parse(readFileSync(statePath, 'utf8')) as Record<string, FeedState>;
  } catch {
    state = {};
  }
  const ca = cfg.update.caFile ? [...rootCertificates, readCa(cfg.update.caFile)] : undefined;

  const outcomes: FeedOutcome[] = [];
  /** What to compile: per feed, a text (downloaded copy) or a local path. */
  const sources: Array<{ feed: IntelFeedConfig; copy?: string; fileName?: string; path?: string }> = [];
  for (const f of cfg.feeds) {
    if (f.path !== null) {
      sources.push({ feed: f, path: f.path });
      continue;
    }
    const url = f.url!;
    const copy = join(stateDir, `${f.name}.feed`);
    const have = existsSync(copy);
    const prev = state[f.name];
    const headers: Record<string, string> = {};
    if (have && prev && prev.url === url) {
      if (prev.etag) headers['if-none-match'] = prev.etag;
      if (prev.lastModified) headers['if-modified-since'] = prev.lastModified;
    }
    const maxBytes = f.maxBytes > 0 ? f.maxBytes : cfg.update.maxBytes;
    let failure: string | null = null;
    let fetched: Fetched | null = null;
    for (let attempt = 0; ; attempt++) {
      try {
        fetched = await fetchOnce(url, headers, cfg.update.timeoutMs, maxBytes, ca);
        break;
      } catch (e) {
        const fe = e instanceof FetchError ? e : new FetchError(String(e), false);
        if (!fe.retry || attempt >= cfg.update.retries) {
          failure = `${fe.message}${attempt > 0 ? ` after ${attempt + 1} attempts` : ''}`;
          break;
        }
        await sleep(cfg.update.backoffMs * 2 ** attempt);
      }
    }
    const fileName = basename(new URL(url).pathname) || f.name;
    if (fetched !== null && fetched.status === 304) {
      sources.push({ feed: f, copy, fileName: prev?.fileName ?? fileName });
      outcomes.push({ name: f.name, status: 'not-modified', line: `${f.name}: not modified since ${prev?.fetchedAt ?? mtimeText(copy)}, using the copy`, indicators: 0, malformed: 0 });
      continue;
    }
    if (fetched !== null && fetched.body !== null) {
      const text = fetched.body.toString('utf8');
      let report: FeedReport | null = null;
      try {
        report = parseFeedText(text, fileName, COUNT_ONLY, specOf(f));
        failure = refuseReason(report, cfg.update.minValid);
        if (failure !== null) failure = `refused: ${failure}`;
      } catch (e) {
        failure = `refused: ${(e as Error).message}`;
      }
      if (failure === null && report !== null) {
        atomicWrite(copy, fetched.body);
        state[f.name] = { url, fetchedAt: new Date().toISOString(), fileName, ...(fetched.etag ? { etag: fetched.etag } : {}), ...(fetched.lastModified ? { lastModified: fetched.lastModified } : {}) };
        sources.push({ feed: f, copy, fileName });
        outcomes.push({
          name: f.name,
          status: 'updated',
          line: `${f.name}: updated, ${fetched.body.length} bytes, ${total(report)} indicators, ${report.malformed} malformed lines`,
          indicators: total(report),
          malformed: report.malformed,
        });
        continue;
      }
    }
    // Any failure: the last good copy stays in use.
    if (have) {
      sources.push({ feed: f, copy, fileName: prev?.fileName ?? fileName });
      outcomes.push({ name: f.name, status: 'kept', line: `${f.name}: FAILED (${failure}); keeping the last good copy from ${prev?.fetchedAt ?? mtimeText(copy)}`, indicators: 0, malformed: 0 });
    } else {
      outcomes.push({ name: f.name, status: 'failed', line: `${f.name}: FAILED (${failure}); no earlier copy, feed left out`, indicators: 0, malformed: 0 });
    }
  }
  try {
    atomicWrite(statePath, JSON.stringify(state, null, 1) + '\n');
  } catch (e) {
    log(`warning: intel update: cannot save ${statePath}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }

  // Compile every current copy.
  const b = new IntelStoreBuilder();
  let compiled = 0;
  let indicators = 0;
  for (const s of sources) {
    const sink = confidenceSink(b, s.feed.confidence);
    let reports: FeedReport[];
    try {
      reports = s.path !== undefined ? loadFeeds(s.path, sink, specOf(s.feed)) : [parseFeedText(readFileSync(s.copy!, 'utf8'), s.fileName ?? s.feed.name, sink, specOf(s.feed))];
    } catch (e) {
      outcomes.push({ name: s.feed.name, status: 'failed', line: `${s.feed.name}: FAILED (${(e as Error).message}); feed left out`, indicators: 0, malformed: 0 });
      continue;
    }
    const n = reports.reduce((a, r) => a + total(r), 0);
    const bad = reports.reduce((a, r) => a + r.malformed, 0);
    indicators += n;
    compiled++;
    if (s.path !== undefined) outcomes.push({ name: s.feed.name, status: 'local', line: `${s.feed.name}: local ${s.path}, ${reports.length} file${reports.length === 1 ? '' : 's'}, ${n} indicators, ${bad} malformed lines`, indicators: n, malformed: bad });
    else {
      const o = outcomes.find((x) => x.name === s.feed.name);
      if (o && o.status !== 'updated') {
        o.indicators = n;
        o.malformed = bad;
      }
    }
  }
  // Report in the configured order.
  const order = new Map(cfg.feeds.map((f, i) => [f.name, i]));
  outcomes.sort((a, c) => (order.get(a.name) ?? 0) - (order.get(c.name) ?? 0));
  for (const o of outcomes) log(o.line);
  if (compiled === 0 || indicators === 0) {
    throw new HarrierError('HARRIER_ERR_INTEL_UPDATE', `intel update: no feed could be compiled; ${out} left unchanged`);
  }
  const store = b.build();
  let bytes: number;
  try {
    bytes = writeIntelStore(store, out);
  } catch (e) {
    if (e instanceof HarrierError) throw e;
    throw new HarrierError('HARRIER_ERR_OUTPUT', `intel update: cannot write ${out}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  log(`intel store ${out}: ${indicators} indicators from ${compiled} feed${compiled === 1 ? '' : 's'}, ${bytes} bytes`);
  return { outcomes, store: out, bytes, indicators };
}

function readCa(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new HarrierError('HARRIER_ERR_CONFIG', `intel.update.ca-file ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}
