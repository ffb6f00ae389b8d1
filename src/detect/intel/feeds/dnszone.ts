/**
 * DNS resolver blocklist configurations, read back as domain lists:
 * dnsmasq `address=/d/…` and `server=/d/`, BIND `zone "d" {…}`, Unbound
 * `local-zone: "d" …`, RPZ zone records `d CNAME .` (and `*.d CNAME .`), and
 * the IE tracking-protection `.tpl` form `-d d`. Zone boilerplate ($TTL, SOA,
 * NS) is ignored.
 */
import { classifyToken, normalizeDomain } from '../normalize.js';
import { FeedContext, forEachLine, stripComment } from './context.js';
import type { FeedFormat } from './format.js';

const PATTERNS: RegExp[] = [
  /^(?:address|server|local)=\/([^/]+)\//,
  /^zone\s+"([^"]+)"/,
  /^local-(?:zone|data):\s*"([^"\s]+)/,
  /^-d\s+(\S+)/,
  /^(\S+)\s+(?:\d+\s+)?(?:IN\s+)?CNAME\s+\S+$/i,
];

export const dnsZoneFormat: FeedFormat = {
  name: 'dnszone',
  description: 'dnsmasq address=/d/, BIND zone "d", Unbound local-zone, RPZ "d CNAME .", .tpl "-d d"',
  detect(sample) {
    const lines = sample
      .split('\n')
      .filter((l) => l.trim() && !/^\s*[#;$@:]|^\s*NS\s|^msFilterList/.test(l))
      .slice(0, 50);
    if (lines.length === 0) return 0;
    const ok = lines.filter((l) => PATTERNS.some((re) => re.test(l.trim()))).length;
    return ok >= lines.length * 0.6 ? 92 : 0;
  },
  parse(text: string, ctx: FeedContext) {
    forEachLine(text, ctx, (line) => {
      const s = stripComment(line);
      if (s === '' || s[0] === '$' || s[0] === '@' || /^(NS|SOA)\b/i.test(s) || /\s(NS|SOA)\s/i.test(s)) return ctx.ignore();
      if (s === 'msFilterList' || s.startsWith(':')) return ctx.ignore();
      for (const re of PATTERNS) {
        const m = re.exec(s);
        if (!m) continue;
        const d = normalizeDomain(m[1]);
        if (d) return ctx.emit('domain', d);
        // Lists of "domains" often carry bare IPs too.
        const c = classifyToken(m[1]);
        if (c) return ctx.emit(c.kind, c.value, c.port);
        return ctx.malformed(line);
      }
      ctx.malformed(line);
    });
  },
};
