/**
 * Adblock / AdGuard network rules of the blocking kind: `||domain^`,
 * `||domain^$options`, `||1.2.3.4^`. Exceptions (`@@`), cosmetic rules (`##`)
 * and header lines (`[Adblock Plus]`, `! comment`) are ignored; rules with a
 * path (`||host/path`) become URL entries.
 */
import { FeedContext, forEachLine } from './context.js';
import type { FeedFormat } from './format.js';

export const adblockFormat: FeedFormat = {
  name: 'adblock',
  description: 'adblock rules ||domain^ and ||domain^$options',
  detect(sample) {
    const lines = sample.split('\n').filter((l) => l.trim() && !/^\s*[!#[]/.test(l)).slice(0, 50);
    if (lines.length === 0) return 0;
    const ok = lines.filter((l) => l.startsWith('||') || l.startsWith('@@') || l.includes('##')).length;
    return ok >= lines.length * 0.6 ? 95 : 0;
  },
  parse(text: string, ctx: FeedContext) {
    forEachLine(text, ctx, (line) => {
      const s = line.trim();
      if (s === '' || s[0] === '!' || s[0] === '[' || s[0] === '#' || s.startsWith('@@') || s.includes('##')) {
        return ctx.ignore();
      }
      if (!s.startsWith('||')) return ctx.malformed(line);
      if (!adblockRule(s, ctx)) ctx.malformed(line);
    });
  },
};

/** One `||…` blocking rule (also met inside plain lists, e.g. urlhaus-filter): true when an entry was emitted. */
export function adblockRule(s: string, ctx: FeedContext): boolean {
  let body = s.slice(2);
  const dollar = body.indexOf('$');
  if (dollar >= 0) body = body.slice(0, dollar);
  if (body.endsWith('^')) body = body.slice(0, -1);
  if (body.endsWith('|')) body = body.slice(0, -1);
  if (body.includes('*') || body.includes('^')) return false;
  return ctx.token(body);
}
