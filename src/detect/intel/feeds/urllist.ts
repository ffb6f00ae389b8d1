/**
 * URL lists: one URL per line (`http://host/path`, `host/path`), and the
 * browser match-pattern form `*://host/path*` (NoCoin) whose scheme wildcard
 * and trailing `*` are dropped — the store matches exact normalised URLs, so
 * a trailing wildcard becomes its literal prefix. A wildcard elsewhere is
 * counted malformed.
 */
import { normalizeDomain, normalizeUrl } from '../normalize.js';
import { FeedContext, forEachLine, stripComment } from './context.js';
import type { FeedFormat } from './format.js';

export const urlListFormat: FeedFormat = {
  name: 'urls',
  description: 'one URL per line (http://…, host/path, *://host/path*)',
  detect(sample) {
    const lines = sample.split('\n').filter((l) => l.trim() && !/^\s*[#;]/.test(l)).slice(0, 50);
    if (lines.length === 0) return 0;
    const ok = lines.filter((l) => /^(\*|[a-zA-Z][a-zA-Z0-9+.-]*):\/\/\S+$/.test(l.trim())).length;
    return ok >= lines.length * 0.8 ? 80 : 0;
  },
  parse(text: string, ctx: FeedContext) {
    forEachLine(text, ctx, (line) => {
      let s = stripComment(line);
      if (s === '') return ctx.ignore();
      if (s.startsWith('*://')) s = 'http://' + s.slice(4);
      while (s.endsWith('*')) s = s.slice(0, -1);
      if (s.includes('*')) return ctx.malformed(line);
      const u = normalizeUrl(s.includes('/') ? s : s + '/');
      if (!u) return ctx.malformed(line);
      if (u.endsWith('/') && u.indexOf('/') === u.length - 1 && !/^[a-z]+:\/\/.+\/.+/.test(s)) {
        // `http://evil.com/` or `evil.com` alone names the whole host: a domain entry.
        const d = normalizeDomain(u.slice(0, -1).replace(/:\d+$/, ''));
        if (d) return ctx.emit('domain', d);
      }
      ctx.emit('url', u);
    });
  },
};
