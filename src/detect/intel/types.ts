/**
 * Shared vocabulary of the threat-intelligence module: indicator kinds, the
 * per-entry metadata every feed entry carries, and the parse report a feed
 * produces. Parsers never build a store themselves; they push entries into an
 * `IndicatorSink` so that a test can collect them and the builder can compile
 * them without an intermediate array of millions of objects.
 */

/** What an indicator is matched against. `urlpath` is a URL without host (maltrail's `/evil.php`). */
export const INDICATOR_KINDS = ['ipv4', 'ipv6', 'domain', 'url', 'ja3', 'ja4', 'sha1', 'md5', 'sha256'] as const;
export type IndicatorKind = (typeof INDICATOR_KINDS)[number];

/** Hash kinds are all exact-match lowercase hex (JA4 is its own text form). */
export const HASH_KINDS = ['ja3', 'ja4', 'sha1', 'md5', 'sha256'] as const;
export type HashKind = (typeof HASH_KINDS)[number];

/** One entry as a parser reports it (value not yet compiled). */
export interface Indicator {
  kind: IndicatorKind;
  /** ipv4/ipv6: address or CIDR text; domain: name; url: URL text; hashes: hex. */
  value: string;
  /** Destination port the entry is limited to; 0 = any port. */
  port: number;
  /** 0..100, or -1 when the feed gives none. */
  confidence: number;
  /** Category of this entry when it differs from the feed's (MISP, CSV); null = the feed's. */
  category: string | null;
  /** Free label such as a malware family or listing reason ("Pikabot", "AsyncRAT C&C"); null = none. */
  tag: string | null;
}

export interface IndicatorSink {
  add(feed: string, category: string, ind: Indicator): void;
}

/** Counts and examples a feed parse produces; malformed lines are never fatal. */
export interface FeedReport {
  feed: string;
  format: string;
  category: string;
  lines: number;
  counts: Record<IndicatorKind, number>;
  malformed: number;
  /** Up to 5 malformed lines (truncated to 120 chars) for the operator. */
  malformedExamples: string[];
  /** Lines deliberately ignored (comments, blank, headers, unsupported record types). */
  ignored: number;
}

export function emptyCounts(): Record<IndicatorKind, number> {
  return { ipv4: 0, ipv6: 0, domain: 0, url: 0, ja3: 0, ja4: 0, sha1: 0, md5: 0, sha256: 0 };
}
