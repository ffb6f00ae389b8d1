/**
 * Plain lists: one indicator per line — IPv4/IPv6 address or CIDR, `ip:port`,
 * domain or `*.domain`, URL, hex digest — with `#`/`;` comments, whole-line or
 * trailing. Also covers the urlhaus "domains"/"wildcard"/dnscrypt lists, and
 * `||host/path^$opts` adblock rules mixed into a plain list (urlhaus-filter).
 */
import { adblockRule } from './adblock.js';
import { FeedContext, forEachLine, stripComment } from './context.js';
import type { FeedFormat } from './format.js';

export const plainFormat: FeedFormat = {
  name: 'plain',
  description: 'one IP, CIDR, ip:port, domain, URL or hash per line; # and ; comments',
  detect(sample) {
    return sample.length > 0 ? 1 : 0; // the fallback for line-oriented text
  },
  parse(text: string, ctx: FeedContext) {
    forEachLine(text, ctx, (line) => {
      const s = stripComment(line);
      if (s === '') return ctx.ignore();
      // Lists that mix plain entries with adblock rules (urlhaus-filter: `||host/path^$all`).
      if (s.startsWith('||') ? !adblockRule(s, ctx) : !ctx.token(s)) ctx.malformed(line);
    });
  },
};
