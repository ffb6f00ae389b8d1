/**
 * What every feed parser writes into: it counts entries per kind, counts
 * malformed lines (keeping a few examples) and forwards entries to the sink
 * with the feed's name and category. Parsers never throw on bad input.
 */
import { classifyToken } from '../normalize.js';
import { emptyCounts, type FeedReport, type IndicatorKind, type IndicatorSink } from '../types.js';

const MAX_EXAMPLES = 5;

export class FeedContext {
  readonly report: FeedReport;
  constructor(
    readonly feed: string,
    readonly category: string,
    format: string,
    private readonly sink: IndicatorSink,
  ) {
    this.report = {
      feed,
      format,
      category,
      lines: 0,
      counts: emptyCounts(),
      malformed: 0,
      malformedExamples: [],
      ignored: 0,
    };
  }

  emit(
    kind: IndicatorKind,
    value: string,
    port = 0,
    confidence = -1,
    category: string | null = null,
    tag: string | null = null,
  ): void {
    this.report.counts[kind]++;
    this.sink.add(this.feed, this.category, { kind, value, port, confidence, category, tag });
  }

  /** Classify a bare token and emit it; false (and nothing emitted) when it is not an indicator. */
  token(tok: string, confidence = -1, category: string | null = null, tag: string | null = null): boolean {
    const c = classifyToken(tok);
    if (!c) return false;
    this.emit(c.kind, c.value, c.port, confidence, category, tag);
    return true;
  }

  malformed(line: string): void {
    this.report.malformed++;
    if (this.report.malformedExamples.length < MAX_EXAMPLES) {
      this.report.malformedExamples.push(line.length > 120 ? line.slice(0, 117) + '...' : line);
    }
  }

  ignore(): void {
    this.report.ignored++;
  }
}

/** Calls fn for each line (without CR/LF), counting lines. */
export function forEachLine(text: string, ctx: FeedContext, fn: (line: string) => void): void {
  let start = 0;
  if (text.charCodeAt(0) === 0xfeff) start = 1; // BOM
  const n = text.length;
  while (start <= n) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = n;
    let e = end;
    if (e > start && text.charCodeAt(e - 1) === 13) e--;
    if (!(end === n && e === start)) {
      ctx.report.lines++;
      fn(text.slice(start, e));
    }
    start = end + 1;
  }
}

/** Strips `#` / `;` comments (whole-line or trailing after whitespace) and trims; '' for nothing left. */
export function stripComment(line: string): string {
  let s = line.trim();
  if (s.length === 0 || s[0] === '#' || s[0] === ';' || s[0] === '!') return '';
  const m = /\s[#;]/.exec(s);
  if (m) s = s.slice(0, m.index).trim();
  return s;
}
