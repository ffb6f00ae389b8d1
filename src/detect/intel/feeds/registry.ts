/**
 * The feed formats, listed once, with detection by content (plus the file
 * name for formats that need it) and an explicit override. Also loads one feed
 * file or a folder of feeds into a sink.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { HarrierError } from '../../../errors.js';
import { inferCategory } from '../normalize.js';
import type { FeedReport, IndicatorSink } from '../types.js';
import { adblockFormat } from './adblock.js';
import { FeedContext } from './context.js';
import { csvFormat } from './csv.js';
import { dnsZoneFormat } from './dnszone.js';
import type { FeedFormat, FeedOptions } from './format.js';
import { hostsFormat } from './hosts.js';
import { ipsumFormat } from './ipsum.js';
import { maltrailCategory, maltrailFormat } from './maltrail.js';
import { mispFormat } from './misp.js';
import { plainFormat } from './plain.js';
import { stixFormat } from './stix.js';
import { urlListFormat } from './urllist.js';

export type { FeedFormat, FeedOptions } from './format.js';

export const FEED_FORMATS: readonly FeedFormat[] = [
  stixFormat,
  mispFormat,
  maltrailFormat,
  csvFormat,
  hostsFormat,
  adblockFormat,
  dnsZoneFormat,
  ipsumFormat,
  urlListFormat,
  plainFormat,
];

export function feedFormat(name: string): FeedFormat | undefined {
  return FEED_FORMATS.find((f) => f.name === name);
}

const SAMPLE = 64 * 1024;

/** Files that are not feeds: documentation, licences, and IDS rule files (rules load through the rule engine). */
export function isNotAFeed(fileName: string, sample: string): boolean {
  const b = basename(fileName).toLowerCase();
  if (/^(readme|license|licence|copying|changelog)(\.|$)|\.(md|rules|html?|yml|yaml|py|sh)$|^\./.test(b)) return true;
  return /^\s*(alert|drop|pass|reject)\s+\w+\s+\S+\s+\S+\s+->/m.test(sample.slice(0, 2000));
}

/** Best format for a file by content; `plain` when nothing else claims it. */
export function detectFormat(sample: string, fileName: string): FeedFormat {
  let best = plainFormat;
  let score = 0;
  for (const f of FEED_FORMATS) {
    const s = f.detect(sample, fileName);
    if (s > score) {
      best = f;
      score = s;
    }
  }
  return best;
}

export interface FeedSpec {
  /** Feed name (default: path relative to the folder loaded, or the file name). */
  name?: string;
  /** Explicit format (a FeedFormat name); detected from content otherwise. */
  format?: string;
  /** Category; inferred from the name where obvious, else 'malicious'. */
  category?: string;
  options?: FeedOptions;
}

/** Parses one feed held in memory. */
export function parseFeedText(text: string, fileName: string, sink: IndicatorSink, spec: FeedSpec = {}): FeedReport {
  const fmt = spec.format ? feedFormat(spec.format) : detectFormat(text.slice(0, SAMPLE), fileName);
  if (!fmt) throw new HarrierError('HARRIER_ERR_CONFIG', `unknown intel feed format "${spec.format}" for ${fileName}`);
  const name = spec.name ?? fileName;
  const category =
    spec.category ?? (fmt === maltrailFormat ? maltrailCategory('/' + fileName) : (inferCategory(name) ?? 'malicious'));
  const ctx = new FeedContext(name, category, fmt.name, sink);
  fmt.parse(text, ctx, spec.options);
  return ctx.report;
}

/** Loads a feed file, or every feed file under a folder (recursively; non-feeds skipped). */
export function loadFeeds(path: string, sink: IndicatorSink, spec: FeedSpec = {}): FeedReport[] {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    throw new HarrierError('HARRIER_ERR_INPUT_OPEN', `cannot open intel feed ${path}: ${(e as Error).message}`, { cause: e });
  }
  if (!st.isDirectory()) {
    const text = readText(path);
    return [parseFeedText(text, spec.name ?? basename(path), sink, spec)];
  }
  const reports: FeedReport[] = [];
  const walk = (dir: string): void => {
    for (const ent of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(dir, ent.name);
      if (ent.isDirectory()) walk(p);
      else if (ent.isFile()) {
        const text = readText(p);
        const rel = relative(path, p);
        if (isNotAFeed(rel, text)) continue;
        reports.push(parseFeedText(text, rel, sink, { ...spec, name: spec.name ? `${spec.name}/${rel}` : rel }));
      }
    }
  };
  walk(path);
  return reports;
}

function readText(p: string): string {
  try {
    return readFileSync(p, 'utf8');
  } catch (e) {
    throw new HarrierError('HARRIER_ERR_INPUT_OPEN', `cannot read intel feed ${p}: ${(e as Error).message}`, { cause: e });
  }
}
