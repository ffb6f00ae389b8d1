/**
 * Opening intel inputs given on the command line (`--intel PATH…`): feed
 * files, folders of feeds, or compiled store files (recognised by their
 * magic, whatever their name). Feeds are compiled together into one store;
 * each compiled store stays its own (a matcher per store).
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { HarrierError } from '../../errors.js';
import { IntelStoreBuilder } from './builder.js';
import type { AlertPath } from '../alert.js';
import type { Detector } from '../detector.js';
import { AllowPolicy } from './allowlist.js';
import { resolveIntelPaths, type IntelConfig, type IntelFeedConfig } from './config.js';
import { IntelMatcher, type IntelIdentitySource } from './matcher.js';
import { loadFeeds } from './feeds/registry.js';
import { INTEL_MAGIC, loadIntelStore, type IntelStore } from './store.js';
import type { FeedReport, Indicator, IndicatorSink } from './types.js';

/** True when the file starts with the compiled store's magic. */
export function isIntelStoreFile(path: string): boolean {
  let fd: number;
  try {
    if (!statSync(path).isFile()) return false;
    fd = openSync(path, 'r');
  } catch {
    return false;
  }
  try {
    const b = Buffer.alloc(8);
    return readSync(fd, b, 0, 8, 0) === 8 && b.toString('latin1') === INTEL_MAGIC;
  } finally {
    closeSync(fd);
  }
}

export interface OpenedIntel {
  stores: IntelStore[];
  reports: FeedReport[];
  /** Indicators the builder refused after parsing (bad values). */
  rejected: number;
}

/** A sink that gives entries without a confidence the feed's configured one. */
export function confidenceSink(sink: IndicatorSink, confidence: number): IndicatorSink {
  if (confidence < 0) return sink;
  return {
    add(feed: string, category: string, ind: Indicator): void {
      if (ind.confidence < 0) ind.confidence = confidence;
      sink.add(feed, category, ind);
    },
  };
}

/** Opens `--intel` paths (and optionally configured local feeds) as stores. */
export function openIntel(paths: readonly string[], feeds: readonly IntelFeedConfig[] = []): OpenedIntel {
  const stores: IntelStore[] = [];
  const reports: FeedReport[] = [];
  const b = new IntelStoreBuilder();
  let anyFeed = false;
  for (const p of paths) {
    try {
      statSync(p);
    } catch (e) {
      throw new HarrierError('HARRIER_ERR_INPUT_OPEN', `cannot open intel input ${p}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
    if (isIntelStoreFile(p)) stores.push(loadIntelStore(p));
    else {
      reports.push(...loadFeeds(p, b));
      anyFeed = true;
    }
  }
  for (const f of feeds) {
    if (f.path === null) continue;
    reports.push(
      ...loadFeeds(f.path, confidenceSink(b, f.confidence), {
        name: f.name,
        ...(f.format !== null ? { format: f.format } : {}),
        ...(f.category !== null ? { category: f.category } : {}),
      }),
    );
    anyFeed = true;
  }
  if (anyFeed) stores.push(b.build());
  return { stores, reports, rejected: b.rejected };
}

/** One line for stderr: feeds, indicators, and the malformed count of each feed that had any. */
export function feedSummaryLine(o: OpenedIntel): string {
  let indicators = 0;
  let malformed = 0;
  const bad: string[] = [];
  for (const r of o.reports) {
    for (const n of Object.values(r.counts)) indicators += n;
    malformed += r.malformed;
    if (r.malformed > 0) bad.push(`${r.feed} ${r.malformed}`);
  }
  const stores = o.stores.length - (o.reports.length > 0 ? 1 : 0);
  let line = `intel: ${o.reports.length} feed${o.reports.length === 1 ? '' : 's'}, ${indicators} indicators`;
  if (stores > 0) line += `, ${stores} compiled store${stores === 1 ? '' : 's'}`;
  line += `; malformed lines: ${malformed}`;
  if (bad.length > 0) line += ` (${bad.join(', ')})`;
  if (o.rejected > 0) line += `; rejected values: ${o.rejected}`;
  return line;
}

export interface AttachIntelOptions {
  /** The configuration file the block came from (its relative paths are resolved against it). */
  configPath?: string;
  /** Pod identity for scoped allow-lists (K8sEnricher.index). */
  identity?: IntelIdentitySource | null;
  /** One-line messages for the operator (stderr). */
  log?: (line: string) => void;
}

/**
 * Adds intel matching to a pipeline: `paths` (or, when none, the configured
 * compiled store) are opened, one IntelMatcher per store is added with the
 * configured allow-lists. Returns the matchers (for tests and counters).
 */
export function attachIntel(
  pipeline: { readonly alerts: AlertPath; addDetector(d: Detector): void },
  intelCfg: IntelConfig,
  paths: readonly string[],
  opts: AttachIntelOptions = {},
): IntelMatcher[] {
  const cfg = resolveIntelPaths(intelCfg, opts.configPath);
  const inputs = paths.length > 0 ? paths : cfg.store !== null ? [cfg.store] : [];
  if (inputs.length === 0) return [];
  const opened = openIntel(inputs);
  if (opened.reports.length > 0) opts.log?.(feedSummaryLine(opened));
  const allow = AllowPolicy.fromSpec(cfg.allowlist, cfg.allowlists);
  const invalid = allow.invalid();
  if (invalid.length > 0) opts.log?.(`warning: intel: ${invalid.length} allow-list entries are not an IP, CIDR or domain (e.g. ${JSON.stringify(invalid[0])})`);
  return opened.stores.map((store) => {
    const m = new IntelMatcher(store, pipeline.alerts, { allow, identity: opts.identity ?? null, maxPerFlow: cfg.maxPerFlow });
    pipeline.addDetector(m);
    return m;
  });
}
