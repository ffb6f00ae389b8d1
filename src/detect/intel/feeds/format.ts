/** The declaration every feed format module exports (listed once in registry.ts). */
import type { FeedContext } from './context.js';

export interface FeedFormat {
  /** Stable name, used in config as the explicit `format:` override. */
  name: string;
  description: string;
  /**
   * Confidence 0..100 that `sample` (the first ~64 KiB of the file) is in this
   * format; `fileName` helps for formats that carry meaning in the name.
   */
  detect(sample: string, fileName: string): number;
  parse(text: string, ctx: FeedContext, options?: FeedOptions): void;
}

/** Per-feed options from config (all optional). */
export interface FeedOptions {
  /** CSV: column mapping; see csv.ts. */
  columns?: CsvColumns;
  /** CSV: field separator (default ','). */
  delimiter?: string;
  /** ipsum: count that maps to confidence 100 (default 8). */
  maxCount?: number;
}

export interface CsvColumns {
  /** Column (0-based index or header name) holding the indicator. */
  value: number | string;
  /** Force the indicator kind (e.g. 'ja3', 'sha1'); otherwise classified per value. */
  kind?: 'ipv4' | 'ipv6' | 'domain' | 'url' | 'ja3' | 'ja4' | 'sha1' | 'md5' | 'sha256';
  port?: number | string;
  /** Column whose text becomes the entry's tag (malware family, listing reason). */
  tag?: number | string;
  confidence?: number | string;
  /** A second column joined to value as a URL path (splunk host,path). */
  path?: number | string;
}
