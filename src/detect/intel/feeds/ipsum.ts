/**
 * ipsum (stamparm/ipsum): `IP<TAB>count`, count = number of blocklists naming
 * the address. Confidence = min(100, round(100 * count / maxCount)), maxCount
 * 8 by default (ipsum's highest "level" file).
 */
import { parseIPv4 } from '../normalize.js';
import { FeedContext, forEachLine, stripComment } from './context.js';
import type { FeedFormat, FeedOptions } from './format.js';

export const ipsumFormat: FeedFormat = {
  name: 'ipsum',
  description: 'IP<TAB>count per line (count of blocklists → confidence)',
  detect(sample) {
    const lines = sample.split('\n').filter((l) => l && l[0] !== '#').slice(0, 20);
    if (lines.length === 0) return 0;
    const ok = lines.filter((l) => /^[0-9a-fA-F.:]+\t\d+\s*$/.test(l)).length;
    return ok >= lines.length * 0.6 ? 90 : 0;
  },
  parse(text: string, ctx: FeedContext, options?: FeedOptions) {
    const max = options?.maxCount ?? 8;
    forEachLine(text, ctx, (line) => {
      const s = stripComment(line);
      if (s === '') return ctx.ignore();
      const m = /^(\S+)\s+(\d+)$/.exec(s);
      if (!m) {
        if (!ctx.token(s)) ctx.malformed(line);
        return;
      }
      const conf = Math.min(100, Math.round((100 * Number(m[2])) / max));
      if (parseIPv4(m[1]) < 0 && !m[1].includes(':')) return ctx.malformed(line);
      if (!ctx.token(m[1], conf)) ctx.malformed(line);
    });
  },
};
