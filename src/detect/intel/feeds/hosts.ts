/**
 * Hosts files: `0.0.0.0 domain [domain…]` / `127.0.0.1 domain` / `::1 domain`.
 * The sinkhole address is not an indicator; localhost names are ignored.
 */
import { normalizeDomain } from '../normalize.js';
import { FeedContext, forEachLine, stripComment } from './context.js';
import type { FeedFormat } from './format.js';

const SINKS = new Set(['0.0.0.0', '127.0.0.1', '::1', '::', '0:0:0:0:0:0:0:0', '255.255.255.255']);
const LOCAL = new Set(['localhost', 'localhost.localdomain', 'local', 'broadcasthost', 'ip6-localhost', 'ip6-loopback', '0.0.0.0']);

export const hostsFormat: FeedFormat = {
  name: 'hosts',
  description: 'hosts file: 0.0.0.0 / 127.0.0.1 followed by domains',
  detect(sample) {
    const lines = sample.split('\n').filter((l) => l.trim() && !/^\s*#/.test(l)).slice(0, 50);
    if (lines.length === 0) return 0;
    const ok = lines.filter((l) => /^\s*(0\.0\.0\.0|127\.0\.0\.1|::1?)\s+\S/.test(l)).length;
    return ok >= lines.length * 0.6 ? 95 : 0;
  },
  parse(text: string, ctx: FeedContext) {
    forEachLine(text, ctx, (line) => {
      const s = stripComment(line);
      if (s === '') return ctx.ignore();
      const parts = s.split(/\s+/);
      if (parts.length < 2 || !SINKS.has(parts[0])) return ctx.malformed(line);
      for (let i = 1; i < parts.length; i++) {
        if (LOCAL.has(parts[i].toLowerCase())) {
          ctx.ignore();
          continue;
        }
        const d = normalizeDomain(parts[i]);
        if (d) ctx.emit('domain', d);
        else if (!ctx.token(parts[i])) ctx.malformed(line); // `domain:port`, a bare IP
      }
    });
  },
};
