/**
 * CSV feeds with a column mapping (FeedOptions.columns). Built-in presets,
 * chosen by header or file name when no mapping is configured:
 *   - abuse.ch Feodo Tracker: "first_seen_utc","dst_ip","dst_port",…,"malware"
 *   - abuse.ch SSLBL JA3: ja3_md5,Firstseen,Lastseen,Listingreason (header commented)
 *   - abuse.ch SSLBL certificates: SHA1,ListingReason,ListingDate (also the
 *     original "Listingdate,SHA1,Listingreason" order)
 *   - urlhaus-filter Splunk lookup: "host","path",…
 * Quoted fields with "" escapes are supported; lines starting with # are comments.
 */
import { classifyToken, normalizeUrl } from '../normalize.js';
import { FeedContext, forEachLine } from './context.js';
import type { CsvColumns, FeedFormat, FeedOptions } from './format.js';

/** Splits one CSV record (no embedded newlines; feeds never use them). */
export function splitCsv(line: string, delim = ','): string[] {
  const out: string[] = [];
  let i = 0;
  const n = line.length;
  while (i <= n) {
    if (line[i] === '"') {
      let v = '';
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) {
          v += line.slice(i);
          i = n;
          break;
        }
        v += line.slice(i, q);
        if (line[q + 1] === '"') {
          v += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      out.push(v);
      const d = line.indexOf(delim, i);
      i = d < 0 ? n + 1 : d + 1;
    } else {
      const d = line.indexOf(delim, i);
      const end = d < 0 ? n : d;
      out.push(line.slice(i, end).trim());
      i = end + 1;
    }
  }
  return out;
}

interface Preset {
  test(header: string[], fileName: string): boolean;
  columns: CsvColumns;
}

const PRESETS: Preset[] = [
  {
    test: (h) => h.includes('dst_ip') && h.includes('dst_port'),
    columns: { value: 'dst_ip', port: 'dst_port', tag: 'malware' },
  },
  { test: (h) => h[0] === 'sha1' || (h.includes('sha1') && h.includes('listingreason')), columns: { value: 'sha1', kind: 'sha1', tag: 'listingreason' } },
  { test: (h) => h[0] === 'ja3_md5' || /ja3/i.test(h[0] ?? ''), columns: { value: 0, kind: 'ja3', tag: 3 } },
  { test: (_h, f) => /ja3/i.test(f), columns: { value: 0, kind: 'ja3', tag: 3 } },
  { test: (h) => h[0] === 'host' && h[1] === 'path', columns: { value: 'host', path: 'path' } },
];

function headerOf(text: string, delim = ','): string[] {
  for (const raw of text.split('\n', 40)) {
    let l = raw.replace(/^\ufeff/, '').trim();
    if (l === '') continue;
    if (l[0] === '#') {
      // SSLBL puts its header in a comment: "# ja3_md5,Firstseen,…"
      l = l.replace(/^#+\s*/, '');
      if (!l.includes(delim) || /[^\w,"\s.-]/.test(l)) continue;
    }
    return splitCsv(l, delim).map((c) => c.toLowerCase());
  }
  return [];
}

export const csvFormat: FeedFormat = {
  name: 'csv',
  description: 'CSV with a column mapping (presets: Feodo C2, SSLBL JA3, SSLBL SHA-1, urlhaus Splunk)',
  detect(sample, fileName) {
    const h = headerOf(sample);
    if (PRESETS.some((p) => p.test(h, fileName))) return 97;
    return /\.csv$/i.test(fileName) ? 60 : 0;
  },
  parse(text: string, ctx: FeedContext, options?: FeedOptions) {
    const delim = options?.delimiter ?? ',';
    const header = headerOf(text, delim);
    let cols = options?.columns;
    if (!cols) cols = PRESETS.find((p) => p.test(header, ctx.feed))?.columns ?? { value: 0 };
    const idx = (c: number | string | undefined): number =>
      c === undefined ? -1 : typeof c === 'number' ? c : header.indexOf(c.toLowerCase());
    const vi = idx(cols.value);
    const pi = idx(cols.port);
    const ti = idx(cols.tag);
    const ci = idx(cols.confidence);
    const pathI = idx(cols.path);
    let sawHeader = false;
    forEachLine(text, ctx, (line) => {
      const s = line.replace(/^\ufeff/, '').trim();
      if (s === '' || s[0] === '#') return ctx.ignore();
      const f = splitCsv(s, delim);
      if (!sawHeader && f.map((x) => x.toLowerCase()).join() === header.join()) {
        sawHeader = true;
        return ctx.ignore();
      }
      if (vi < 0 || vi >= f.length) return ctx.malformed(line);
      let value = f[vi];
      const tag = ti >= 0 && ti < f.length && f[ti] !== '' ? f[ti] : null;
      let port = 0;
      if (pi >= 0 && pi < f.length && f[pi] !== '') {
        port = Number(f[pi]);
        if (!Number.isInteger(port) || port < 0 || port > 65535) return ctx.malformed(line);
      }
      let conf = -1;
      if (ci >= 0 && ci < f.length && f[ci] !== '') {
        conf = Number(f[ci]);
        if (!(conf >= 0 && conf <= 100)) return ctx.malformed(line);
      }
      if (pathI >= 0 && pathI < f.length && f[pathI] !== '') {
        const u = normalizeUrl(value + (f[pathI].startsWith('/') ? '' : '/') + f[pathI]);
        if (!u) return ctx.malformed(line);
        return ctx.emit('url', u, port, conf, null, tag);
      }
      if (cols.kind) {
        value = value.toLowerCase();
        const hexLen = { ja3: 32, md5: 32, sha1: 40, sha256: 64 } as Record<string, number>;
        const want = hexLen[cols.kind];
        if (want !== undefined && !(value.length === want && /^[0-9a-f]+$/.test(value))) return ctx.malformed(line);
        if (cols.kind === 'ipv4' || cols.kind === 'ipv6' || cols.kind === 'domain' || cols.kind === 'url') {
          const c = classifyToken(value);
          if (!c || c.kind !== cols.kind) return ctx.malformed(line);
          return ctx.emit(c.kind, c.value, port || c.port, conf, null, tag);
        }
        return ctx.emit(cols.kind, value, port, conf, null, tag);
      }
      const c = classifyToken(value);
      if (!c) return ctx.malformed(line);
      ctx.emit(c.kind, c.value, port || c.port, conf, null, tag);
    });
  },
};
