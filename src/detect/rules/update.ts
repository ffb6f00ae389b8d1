/**
 * `harrier rules update`: fetch rule tarballs, check that the new set loads,
 * and swap it in atomically — or keep the current set, whatever went wrong.
 *
 * Layout of the rules folder (`rules.dir` in the config, `--dir`):
 *
 *   DIR/current -> sets/<id>   symlink to the set in use: point `--rules` here
 *   DIR/sets/<id>/             one folder per installed set, files flattened
 *   DIR/cache/<hash>.tar.gz    last good download of each source (for 304s)
 *   DIR/state.json             per source: ETag, Last-Modified, cache file
 *
 * Why a symlink: replacing a non-empty folder cannot be atomic, but renaming
 * a new symlink over `current` is (rename(2)), so a reader sees the old set
 * or the new one, never a half-written folder. The previous set is kept one
 * generation for a manual rollback. Downloads, state and cache change only
 * after the swap, so a rejected set is never taken as the "not modified"
 * baseline of the next run.
 *
 * Rule reload without restart (detect/engine/reload.ts, sensor/reload.ts):
 * a running `harrier analyze --rules DIR/current` re-reads its rules on
 * SIGHUP or SIGUSR2, or — with `--reload-poll N` on a live capture — when the
 * `current` link, the files under it or `state.json` changed; it builds the
 * new engine beside the running one and swaps it in between packets only if
 * the build loads at least one rule.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { HarrierError } from '../../errors.js';
import { loadRules } from './loader.js';
import { readTar, TarError, type TarFile } from './update-tar.js';

/** ET Open for Suricata 7: the default source. */
export const ET_OPEN_URL = 'https://rules.emergingthreats.net/open/suricata-7.0.3/emerging.rules.tar.gz';

/** The `rules:` block of the config file, as far as updates are concerned. */
export interface RulesUpdateConfig {
  sources: string[];
  dir: string;
  /** Largest download per source (bytes). */
  maxDownloadBytes: number;
  /** Largest unpacked size per source (bytes). */
  maxExtractedBytes: number;
  /** Extra attempts after a failed one (network error, 5xx, 429). */
  retries: number;
}

export function defaultRulesUpdateConfig(): RulesUpdateConfig {
  return { sources: [ET_OPEN_URL], dir: '/var/lib/harrier/rules', maxDownloadBytes: 64 * 1024 * 1024, maxExtractedBytes: 512 * 1024 * 1024, retries: 3 };
}

/**
 * Reads `rules: { sources: [...], dir: ..., max-download: 64mb, retries: 3 }`.
 * Other keys of the block belong to the rule front end and are left alone.
 */
export function parseRulesUpdateConfig(v: unknown, parseSize: (v: unknown, key: string) => number): RulesUpdateConfig {
  const cfg = defaultRulesUpdateConfig();
  if (v === null || v === undefined) return cfg;
  if (typeof v !== 'object' || Array.isArray(v)) throw new HarrierError('HARRIER_ERR_CONFIG', 'config: rules must be a mapping');
  const o = v as Record<string, unknown>;
  if ('sources' in o) {
    const list = Array.isArray(o.sources) ? o.sources : [o.sources];
    cfg.sources = list.map((s, i) => {
      const url = typeof s === 'object' && s !== null && 'url' in s ? (s as { url: unknown }).url : s;
      if (typeof url !== 'string' || !/^https?:\/\/\S+$/.test(url)) {
        throw new HarrierError('HARRIER_ERR_CONFIG', `config: rules.sources[${i}] must be an http(s) URL, got ${JSON.stringify(url)}`);
      }
      return url;
    });
  }
  if ('dir' in o) {
    if (typeof o.dir !== 'string' || o.dir === '') throw new HarrierError('HARRIER_ERR_CONFIG', 'config: rules.dir must be a non-empty path');
    cfg.dir = o.dir;
  }
  if ('max-download' in o) cfg.maxDownloadBytes = parseSize(o['max-download'], 'rules.max-download');
  if ('max-extracted' in o) cfg.maxExtractedBytes = parseSize(o['max-extracted'], 'rules.max-extracted');
  if ('retries' in o) {
    const n = Number(o.retries);
    if (!Number.isInteger(n) || n < 0 || n > 10) throw new HarrierError('HARRIER_ERR_CONFIG', 'config: rules.retries must be an integer from 0 to 10');
    cfg.retries = n;
  }
  return cfg;
}

export interface UpdateOptions {
  sources: string[];
  dir: string;
  maxDownloadBytes?: number;
  maxExtractedBytes?: number;
  retries?: number;
  /** First retry delay in ms, doubled each time (default 1000). */
  backoffMs?: number;
  /** Per attempt (default 120 s). */
  timeoutMs?: number;
  /** Variables the new set is loaded with to validate it. */
  vars: { addressGroups: Record<string, string>; portGroups: Record<string, string> };
  /** Share of rules that may fail to load before the set is refused (default 0.1). */
  maxFailRatio?: number;
  /** Progress lines (one per source). */
  log?: (line: string) => void;
}

export interface SourceResult {
  url: string;
  status: 'downloaded' | 'not-modified';
  bytes: number;
  attempts: number;
}

export interface UpdateResult {
  /** False when every source said "not modified" and a set is installed. */
  changed: boolean;
  /** Path of the installed set (`DIR/current`). */
  current: string;
  sources: SourceResult[];
  rules: { loaded: number; failed: number };
  diff: { added: number; removed: number; modified: number };
}

interface SourceState {
  etag?: string;
  lastModified?: string;
  cache: string;
}
interface State {
  version: 1;
  sources: Record<string, SourceState>;
  /** Load figures of the installed set (reported again when nothing changed). */
  rules?: { loaded: number; failed: number };
}

function fail(msg: string): HarrierError {
  return new HarrierError('HARRIER_ERR_RULES_UPDATE', `rules update failed: ${msg}; keeping the current rule set`);
}

function readState(dir: string): State {
  try {
    const s = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as State;
    if (s && s.version === 1 && typeof s.sources === 'object' && s.sources !== null) return s;
  } catch {
    /* missing or corrupt: start afresh (everything is downloaded again) */
  }
  return { version: 1, sources: {} };
}

function writeAtomic(path: string, data: string | Buffer): void {
  const tmp = `${path}.tmp-${randomBytes(4).toString('hex')}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

class Permanent extends Error {}

/** One conditional GET with a size limit; retried on network errors, 5xx and 429. */
async function download(
  url: string,
  cond: SourceState | undefined,
  o: { maxBytes: number; retries: number; backoffMs: number; timeoutMs: number },
): Promise<{ body: Buffer | null; etag?: string; lastModified?: string; attempts: number }> {
  let last = '';
  for (let attempt = 1; attempt <= o.retries + 1; attempt++) {
    if (attempt > 1) await sleep(Math.min(o.backoffMs * 2 ** (attempt - 2), 60_000));
    const headers: Record<string, string> = { 'user-agent': 'harrier-rules-update' };
    if (cond?.etag) headers['if-none-match'] = cond.etag;
    if (cond?.lastModified) headers['if-modified-since'] = cond.lastModified;
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(new Error(`no answer within ${o.timeoutMs / 1000} s`)), o.timeoutMs);
    try {
      const res = await fetch(url, { headers, signal: ac.signal, redirect: 'follow' });
      if (res.status === 304) {
        await res.body?.cancel();
        if (!cond) throw new Permanent('HTTP 304 without a cached copy');
        return { body: null, attempts: attempt };
      }
      if (res.status >= 500 || res.status === 429) {
        await res.body?.cancel();
        last = `HTTP ${res.status}`;
        continue;
      }
      if (res.status !== 200) {
        await res.body?.cancel();
        throw new Permanent(`HTTP ${res.status}`);
      }
      const declared = Number(res.headers.get('content-length') ?? NaN);
      if (Number.isFinite(declared) && declared > o.maxBytes) {
        await res.body?.cancel();
        throw new Permanent(`download of ${declared} bytes is over the ${o.maxBytes}-byte limit`);
      }
      const chunks: Buffer[] = [];
      let n = 0;
      if (res.body) {
        for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
          n += chunk.length;
          if (n > o.maxBytes) {
            ac.abort();
            throw new Permanent(`download is over the ${o.maxBytes}-byte limit`);
          }
          chunks.push(Buffer.from(chunk));
        }
      }
      return { body: Buffer.concat(chunks, n), etag: res.headers.get('etag') ?? undefined, lastModified: res.headers.get('last-modified') ?? undefined, attempts: attempt };
    } catch (err) {
      if (err instanceof Permanent) throw err;
      const e = err as Error & { cause?: Error };
      last = e.cause?.message ?? e.message;
    } finally {
      clearTimeout(timer);
    }
  }
  throw new Error(`${last} after ${o.retries + 1} attempts`);
}

/** Files of one download: a .tar.gz (or .tgz / .tar) is unpacked; anything else is one rule file. */
export function unpack(url: string, body: Buffer, maxExtractedBytes: number): TarFile[] {
  const path = new URL(url).pathname;
  const gz = body.length >= 2 && body[0] === 0x1f && body[1] === 0x8b;
  const looksTar = /\.(tar\.gz|tgz|tar)$/i.test(path);
  if (!gz && !looksTar) return [{ name: basename(path) || 'downloaded.rules', data: body }];
  let raw = body;
  if (gz) {
    try {
      raw = gunzipSync(body, { maxOutputLength: maxExtractedBytes });
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) throw new Error(`unpacks to more than ${maxExtractedBytes} bytes`);
      throw new Error(`not a valid gzip file (${e.message})`);
    }
  }
  try {
    return readTar(raw, { maxFileBytes: maxExtractedBytes });
  } catch (err) {
    if (err instanceof TarError) throw new Error(err.message);
    throw err;
  }
}

/** Active rules of a folder's .rules files by `gid:sid`, with their text (whitespace-normalised) to spot changes. */
export function ruleIndex(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  let names: string[] = [];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.rules'));
  } catch {
    return out;
  }
  for (const n of names) {
    let acc = '';
    for (const raw of readFileSync(join(dir, n), 'latin1').split(/\r?\n/)) {
      const line = raw.trimEnd();
      if (line.endsWith('\\')) {
        acc += line.slice(0, -1);
        continue;
      }
      const rule = (acc + line).trim();
      acc = '';
      if (rule === '' || rule.startsWith('#')) continue;
      const sid = /(?:^|[;(\s])sid\s*:\s*(\d+)\s*;/.exec(rule);
      if (!sid) continue;
      const gid = /(?:^|[;(\s])gid\s*:\s*(\d+)\s*;/.exec(rule);
      out.set(`${gid ? gid[1] : '1'}:${sid[1]}`, rule.replace(/\s+/g, ' '));
    }
  }
  return out;
}

export function diffRules(before: Map<string, string>, after: Map<string, string>): { added: number; removed: number; modified: number } {
  let added = 0;
  let modified = 0;
  for (const [k, v] of after) {
    const old = before.get(k);
    if (old === undefined) added++;
    else if (old !== v) modified++;
  }
  let removed = 0;
  for (const k of before.keys()) if (!after.has(k)) removed++;
  return { added, removed, modified };
}

/** A file name safe to write in a set folder (no folders, no dot-files), or null to skip it. */
function safeName(name: string): string | null {
  const b = basename(name.replace(/\\/g, '/'));
  if (b === '' || b.startsWith('.') || !/^[A-Za-z0-9._+-]+$/.test(b)) return null;
  return b;
}

/**
 * Takes `DIR/.lock` (holding our pid) so two updates never interleave; a lock
 * left by a process that no longer exists is taken over.
 */
function lock(dir: string): () => void {
  const path = join(dir, '.lock');
  for (let i = 0; i < 2; i++) {
    try {
      writeFileSync(path, String(process.pid), { flag: 'wx' });
      return () => rmSync(path, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw fail(`cannot lock ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
      const pid = Number(readFileSync(path, 'utf8').trim());
      let alive = false;
      try {
        if (Number.isInteger(pid) && pid > 0) {
          process.kill(pid, 0);
          alive = true;
        }
      } catch (e) {
        alive = (e as NodeJS.ErrnoException).code === 'EPERM';
      }
      if (alive) throw fail(`another update is running (pid ${pid}, ${path})`);
      rmSync(path, { force: true });
    }
  }
  throw fail(`cannot lock ${path}`);
}

/** Runs an update. Throws HarrierError (HARRIER_ERR_RULES_UPDATE) on any failure, leaving `DIR/current` as it was. */
export async function updateRules(opts: UpdateOptions): Promise<UpdateResult> {
  if (opts.sources.length === 0) throw fail('no sources configured (rules.sources or --url)');
  try {
    mkdirSync(join(opts.dir, 'sets'), { recursive: true });
    mkdirSync(join(opts.dir, 'cache'), { recursive: true });
  } catch (err) {
    throw fail(`cannot create ${opts.dir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const unlock = lock(opts.dir);
  try {
    return await updateLocked(opts);
  } finally {
    unlock();
  }
}

async function updateLocked(opts: UpdateOptions): Promise<UpdateResult> {
  const log = opts.log ?? ((): void => undefined);
  const dir = opts.dir;
  const limits = {
    maxBytes: opts.maxDownloadBytes ?? 64 * 1024 * 1024,
    retries: opts.retries ?? 3,
    backoffMs: opts.backoffMs ?? 1000,
    timeoutMs: opts.timeoutMs ?? 120_000,
  };
  const maxExtracted = opts.maxExtractedBytes ?? 512 * 1024 * 1024;
  const state = readState(dir);
  const currentLink = join(dir, 'current');
  let currentTarget: string | null = null;
  try {
    currentTarget = readlinkSync(currentLink);
  } catch {
    currentTarget = null;
  }

  // 1. Download (conditionally) every source.
  const results: SourceResult[] = [];
  const fetched: { url: string; body: Buffer; st: SourceState }[] = [];
  for (const url of opts.sources) {
    const prev = state.sources[url];
    const cachePath = prev ? join(dir, prev.cache) : null;
    const cond = prev && cachePath && existsSync(cachePath) && currentTarget ? prev : undefined;
    let r;
    try {
      r = await download(url, cond, limits);
    } catch (err) {
      throw fail(`${url}: ${(err as Error).message}`);
    }
    const cache = prev?.cache ?? `cache/${createHash('sha256').update(url).digest('hex').slice(0, 16)}.bin`;
    if (r.body === null) {
      results.push({ url, status: 'not-modified', bytes: 0, attempts: r.attempts });
      log(`${url}: not modified`);
      fetched.push({ url, body: readFileSync(join(dir, cache)), st: prev! });
    } else {
      results.push({ url, status: 'downloaded', bytes: r.body.length, attempts: r.attempts });
      log(`${url}: downloaded ${r.body.length} bytes${r.attempts > 1 ? ` (attempt ${r.attempts})` : ''}`);
      fetched.push({ url, body: r.body, st: { etag: r.etag, lastModified: r.lastModified, cache } });
    }
  }
  if (currentTarget && results.every((r) => r.status === 'not-modified')) {
    const rules = state.rules ?? { loaded: ruleIndex(currentLink).size, failed: 0 };
    return { changed: false, current: currentLink, sources: results, rules, diff: { added: 0, removed: 0, modified: 0 } };
  }

  // 2. Unpack into a temporary set folder.
  const id = `${new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomBytes(3).toString('hex')}`;
  const tmp = join(dir, 'sets', `.tmp-${id}`);
  const final = join(dir, 'sets', id);
  try {
    mkdirSync(tmp);
    const written = new Set<string>();
    fetched.forEach(({ url, body }, i) => {
      let files: TarFile[];
      try {
        files = unpack(url, body, maxExtracted);
      } catch (err) {
        throw fail(`${url}: ${(err as Error).message}`);
      }
      let kept = 0;
      for (const f of files) {
        const name = safeName(f.name);
        if (!name) continue;
        // The first source wins a shared side file (classification.config…); a clash of rule files keeps both.
        let target = name;
        if (written.has(target)) {
          if (!name.endsWith('.rules')) continue;
          target = `source${i + 1}-${name}`;
        }
        writeFileSync(join(tmp, target), f.data);
        written.add(target);
        kept++;
      }
      if (kept === 0) throw fail(`${url}: the download holds no usable files`);
    });
    if (![...written].some((n) => n.endsWith('.rules'))) throw fail('the new set has no .rules files');

    // 3. Validate: the set must load with the configured variables.
    let loaded = 0;
    let failed = 0;
    try {
      const set = loadRules([tmp], { vars: opts.vars });
      loaded = set.stats.loaded;
      failed = set.stats.failed;
    } catch (err) {
      throw fail(`the new set does not load: ${(err as Error).message.split('\n')[0]}`);
    }
    const ratio = opts.maxFailRatio ?? 0.1;
    if (loaded === 0) throw fail(`the new set does not load: 0 rules loaded, ${failed} failed`);
    if (failed > ratio * (loaded + failed)) throw fail(`the new set does not load: ${failed} of ${loaded + failed} rules failed (limit ${Math.round(ratio * 100)}%)`);

    const before = currentTarget ? ruleIndex(currentLink) : new Map<string, string>();
    const diff = diffRules(before, ruleIndex(tmp));

    // 4. Swap: rename the folder into place, then the symlink over `current`.
    renameSync(tmp, final);
    const linkTmp = join(dir, `.current-${id}`);
    symlinkSync(join('sets', id), linkTmp);
    renameSync(linkTmp, currentLink);

    // 5. Only now record downloads and state; prune sets older than the previous one.
    for (const f of fetched) {
      if (results.find((r) => r.url === f.url)?.status === 'downloaded') writeAtomic(join(dir, f.st.cache), f.body);
      state.sources[f.url] = f.st;
    }
    state.rules = { loaded, failed };
    writeAtomic(join(dir, 'state.json'), JSON.stringify(state, null, 1) + '\n');
    const keep = new Set([id, currentTarget ? basename(currentTarget) : '']);
    for (const n of readdirSync(join(dir, 'sets'))) if (!keep.has(n)) rmSync(join(dir, 'sets', n), { recursive: true, force: true });
    return { changed: true, current: currentLink, sources: results, rules: { loaded, failed }, diff };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
