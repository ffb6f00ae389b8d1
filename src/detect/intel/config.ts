/**
 * The configuration file's `intel:` block (parsed here so the intel module
 * owns its settings; src/sensor/config.ts calls parseIntelConfig):
 *
 * ```yaml
 * intel:
 *   store: /var/lib/harrier/intel.hrn      # compiled store: written by `intel update`, read by analyze
 *   state-dir: /var/lib/harrier/intel      # last good copy of each feed + ETag/Last-Modified state
 *   max-per-flow: 32                       # distinct indicators alerted per flow
 *   feeds:
 *     - name: feodo
 *       url: https://feodotracker.abuse.ch/downloads/ipblocklist.csv
 *       format: csv                        # optional: detected from the content otherwise
 *       category: c2                       # optional: inferred from the name otherwise
 *       confidence: 90                     # optional 0..100 for entries that carry none
 *       max-size: 50mb                     # optional, overrides update.max-size
 *     - name: lab
 *       path: lab/intel                    # local file or folder (offline)
 *   allowlist: [10.0.0.0/8, registry.example.com]   # global
 *   allowlists:                            # per namespace and/or workload
 *     - namespace: shop
 *       workload: Deployment/cart          # or just `cart`
 *       entries: [api.payments.example]
 *   update:
 *     timeout: 30                          # seconds per attempt
 *     retries: 3                           # attempts after the first
 *     backoff: 1                           # seconds before the first retry, doubled each time
 *     max-size: 256mb                      # per feed
 *     min-valid: 0.5                       # share of non-comment lines that must parse
 *     ca-file: /etc/harrier/ca.pem         # extra CA certificates for HTTPS feeds
 * ```
 *
 * Relative paths are relative to the configuration file (resolveIntelPaths).
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { HarrierError } from '../../errors.js';
import type { AllowScopeSpec } from './allowlist.js';
import { FEED_FORMATS } from './feeds/registry.js';

export interface IntelFeedConfig {
  name: string;
  /** http:// or https:// source (downloaded by `intel update`). */
  url: string | null;
  /** Local file or folder (used as is; `intel update` works offline from these). */
  path: string | null;
  format: string | null;
  category: string | null;
  /** Confidence for entries without their own; -1 = none. */
  confidence: number;
  /** Size limit of a download in bytes; 0 = update.maxBytes. */
  maxBytes: number;
}

export interface IntelUpdateConfig {
  timeoutMs: number;
  retries: number;
  backoffMs: number;
  maxBytes: number;
  /** Share (0..1) of candidate lines that must parse for a feed to be accepted. */
  minValid: number;
  caFile: string | null;
}

export interface IntelConfig {
  feeds: IntelFeedConfig[];
  store: string | null;
  stateDir: string | null;
  allowlist: string[];
  allowlists: AllowScopeSpec[];
  maxPerFlow: number;
  update: IntelUpdateConfig;
}

export function defaultIntelConfig(): IntelConfig {
  return {
    feeds: [],
    store: null,
    stateDir: null,
    allowlist: [],
    allowlists: [],
    maxPerFlow: 32,
    update: { timeoutMs: 30_000, retries: 3, backoffMs: 1000, maxBytes: 256 * 1024 * 1024, minValid: 0.5, caFile: null },
  };
}

const bad = (msg: string): HarrierError => new HarrierError('HARRIER_ERR_CONFIG', `config: intel.${msg}`);

function mapping(v: unknown, key: string): Record<string, unknown> {
  if (v === null || v === undefined) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw bad(`${key} must be a mapping`);
  return v as Record<string, unknown>;
}

function str(v: unknown, key: string): string {
  if (typeof v !== 'string' || v === '') throw bad(`${key} must be a non-empty string`);
  return v;
}

function number(v: unknown, key: string, min: number, max: number): number {
  const n = typeof v === 'string' && /^\d+(\.\d+)?$/.test(v.trim()) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < min || n > max) throw bad(`${key} must be a number between ${min} and ${max}, got ${JSON.stringify(v)}`);
  return n;
}

/** A size: bytes, or `64kb`, `128mb`, `2gb` (as elsewhere in the config). */
function size(v: unknown, key: string): number {
  if (typeof v === 'number' && Number.isFinite(v) && v > 0) return Math.floor(v);
  const m = typeof v === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib|gb|gib)?\s*$/i.exec(v) : null;
  if (!m) throw bad(`${key} must be a size such as 64mb, got ${JSON.stringify(v)}`);
  const u = (m[2] ?? 'b').toLowerCase();
  return Math.floor(Number(m[1]) * (u[0] === 'k' ? 1024 : u[0] === 'm' ? 1024 ** 2 : u[0] === 'g' ? 1024 ** 3 : 1));
}

function strList(v: unknown, key: string): string[] {
  if (v === null || v === undefined) return [];
  if (!Array.isArray(v)) throw bad(`${key} must be a list`);
  return v.map((x, i) => {
    if (typeof x !== 'string' && typeof x !== 'number') throw bad(`${key}[${i}] must be a string`);
    return String(x);
  });
}

const FEED_KEYS = new Set(['name', 'url', 'path', 'format', 'category', 'confidence', 'max-size']);
const TOP_KEYS = new Set(['store', 'state-dir', 'max-per-flow', 'feeds', 'allowlist', 'allowlists', 'update']);
const UPDATE_KEYS = new Set(['timeout', 'retries', 'backoff', 'max-size', 'min-valid', 'ca-file']);

/** Parses the `intel:` block; unknown keys become warnings, bad values HARRIER_ERR_CONFIG. */
export function parseIntelConfig(v: unknown, warnings: string[]): IntelConfig {
  const cfg = defaultIntelConfig();
  const root = mapping(v, '(block)');
  for (const k of Object.keys(root)) if (!TOP_KEYS.has(k)) warnings.push(`config: ignoring unknown key intel.${k}`);
  if (root.store !== undefined) cfg.store = str(root.store, 'store');
  if (root['state-dir'] !== undefined) cfg.stateDir = str(root['state-dir'], 'state-dir');
  if (root['max-per-flow'] !== undefined) cfg.maxPerFlow = number(root['max-per-flow'], 'max-per-flow', 1, 10_000);
  cfg.allowlist = strList(root.allowlist, 'allowlist');
  if (root.allowlists !== undefined) {
    if (!Array.isArray(root.allowlists)) throw bad('allowlists must be a list');
    cfg.allowlists = root.allowlists.map((x, i) => {
      const m = mapping(x, `allowlists[${i}]`);
      const scope: AllowScopeSpec = { entries: strList(m.entries, `allowlists[${i}].entries`) };
      if (m.namespace !== undefined) scope.namespace = str(m.namespace, `allowlists[${i}].namespace`);
      if (m.workload !== undefined) scope.workload = str(m.workload, `allowlists[${i}].workload`);
      if (scope.namespace === undefined && scope.workload === undefined) throw bad(`allowlists[${i}] needs a namespace or a workload (use intel.allowlist for global entries)`);
      return scope;
    });
  }
  const up = mapping(root.update, 'update');
  for (const k of Object.keys(up)) if (!UPDATE_KEYS.has(k)) warnings.push(`config: ignoring unknown key intel.update.${k}`);
  if (up.timeout !== undefined) cfg.update.timeoutMs = number(up.timeout, 'update.timeout', 0.01, 3600) * 1000;
  if (up.retries !== undefined) cfg.update.retries = number(up.retries, 'update.retries', 0, 20);
  if (up.backoff !== undefined) cfg.update.backoffMs = number(up.backoff, 'update.backoff', 0, 600) * 1000;
  if (up['max-size'] !== undefined) cfg.update.maxBytes = size(up['max-size'], 'update.max-size');
  if (up['min-valid'] !== undefined) cfg.update.minValid = number(up['min-valid'], 'update.min-valid', 0, 1);
  if (up['ca-file'] !== undefined) cfg.update.caFile = str(up['ca-file'], 'update.ca-file');
  if (root.feeds !== undefined) {
    if (!Array.isArray(root.feeds)) throw bad('feeds must be a list');
    const names = new Set<string>();
    cfg.feeds = root.feeds.map((x, i) => {
      const m = mapping(x, `feeds[${i}]`);
      for (const k of Object.keys(m)) if (!FEED_KEYS.has(k)) warnings.push(`config: ignoring unknown key intel.feeds[${i}].${k}`);
      const name = str(m.name, `feeds[${i}].name`);
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) throw bad(`feeds[${i}].name must be letters, digits, '.', '_' or '-' (it names a file), got ${JSON.stringify(name)}`);
      if (names.has(name)) throw bad(`feeds: duplicate name ${name}`);
      names.add(name);
      const url = m.url === undefined ? null : str(m.url, `feeds[${i}].url`);
      const path = m.path === undefined ? null : str(m.path, `feeds[${i}].path`);
      if ((url === null) === (path === null)) throw bad(`feeds[${i}] (${name}) needs exactly one of url or path`);
      if (url !== null && !/^https?:\/\//i.test(url)) throw bad(`feeds[${i}].url must be http:// or https://, got ${JSON.stringify(url)}`);
      const format = m.format === undefined ? null : str(m.format, `feeds[${i}].format`);
      if (format !== null && !FEED_FORMATS.some((f) => f.name === format)) {
        throw bad(`feeds[${i}].format must be one of ${FEED_FORMATS.map((f) => f.name).join(', ')}, got ${JSON.stringify(format)}`);
      }
      return {
        name,
        url,
        path,
        format,
        category: m.category === undefined ? null : str(m.category, `feeds[${i}].category`),
        confidence: m.confidence === undefined ? -1 : number(m.confidence, `feeds[${i}].confidence`, 0, 100),
        maxBytes: m['max-size'] === undefined ? 0 : size(m['max-size'], `feeds[${i}].max-size`),
      };
    });
  }
  return cfg;
}

/** Makes the block's relative paths relative to the configuration file's folder. */
export function resolveIntelPaths(cfg: IntelConfig, configPath: string | undefined): IntelConfig {
  const base = configPath ? dirname(resolve(configPath)) : process.cwd();
  const abs = (p: string): string => (isAbsolute(p) ? p : resolve(base, p));
  return {
    ...cfg,
    store: cfg.store === null ? null : abs(cfg.store),
    stateDir: cfg.stateDir === null ? null : abs(cfg.stateDir),
    feeds: cfg.feeds.map((f) => ({ ...f, path: f.path === null ? null : abs(f.path) })),
    update: { ...cfg.update, caFile: cfg.update.caFile === null ? null : abs(cfg.update.caFile) },
  };
}
