/** Public surface of the threat-intelligence module. */
export { Allowlist, type AllowlistReport } from './allowlist.js';
export { IntelStoreBuilder } from './builder.js';
export {
  FEED_FORMATS,
  detectFormat,
  feedFormat,
  isNotAFeed,
  loadFeeds,
  parseFeedText,
  type FeedFormat,
  type FeedOptions,
  type FeedSpec,
} from './feeds/registry.js';
export { normalizeDomain, normalizeUrl, parseIPNet, parseIPv4, parseIPv6 } from './normalize.js';
export { IntelStore, intelStoreFromBuffer, loadIntelStore, writeIntelStore, type IntelMatch } from './store.js';
export * from './types.js';

import { IntelStoreBuilder } from './builder.js';
import { loadFeeds, type FeedSpec } from './feeds/registry.js';
import type { IntelStore } from './store.js';
import type { FeedReport } from './types.js';

/** Convenience: compile feed files/folders into a store, with the per-feed reports. */
export function buildIntelStore(paths: readonly string[], spec: FeedSpec = {}): { store: IntelStore; reports: FeedReport[] } {
  const b = new IntelStoreBuilder();
  const reports: FeedReport[] = [];
  for (const p of paths) reports.push(...loadFeeds(p, b, spec));
  return { store: b.build(), reports };
}
