/**
 * Maltrail static trail files (stamparm/maltrail trails/static/**): the file
 * name is the family (`zeus.txt` → tag "zeus"), the folder the category
 * (malware, malicious, suspicious; mass_scanner → scanner); each line an IP,
 * CIDR, ip:port, domain, URL (`host/path`) or a path alone (`/gate.php`,
 * matched as a URL path on any host). `#` comments.
 */
import { normalizeUrl } from '../normalize.js';
import { FeedContext, forEachLine, stripComment } from './context.js';
import type { FeedFormat } from './format.js';

/** Category of a maltrail file from its path (folder and family name). */
export function maltrailCategory(path: string): string {
  const p = path.toLowerCase();
  if (/mass_scanner/.test(p)) return 'scanner';
  if (/min(er|ing)\b|_miner|crypto_mining|coin/.test(p)) return 'mining';
  if (/onion|\btor\b|i2p/.test(p)) return 'tor';
  if (/phish/.test(p)) return 'phishing';
  if (/(_c2|c2_|\bc2\b|sliver|cobaltstrike|havoc|mythic|covenant|brc4|metasploit)/.test(p)) return 'c2';
  if (/\/malware\//.test(p)) return 'malware';
  if (/\/malicious\//.test(p)) return 'malicious';
  if (/\/suspicious\//.test(p)) return 'suspicious';
  return 'malware';
}

export const maltrailFormat: FeedFormat = {
  name: 'maltrail',
  description: 'maltrail trail file: IP, CIDR, ip:port, domain, URL or /path per line; file name = family',
  detect(sample, fileName) {
    return /maltrail|trails[/\\]/.test(fileName) || /Maltrail developers/.test(sample.slice(0, 400)) ? 98 : 0;
  },
  parse(text: string, ctx: FeedContext) {
    const m = /([^/\\]+?)(\.txt)?$/.exec(ctx.feed);
    const family = m ? m[1] : null;
    forEachLine(text, ctx, (line) => {
      const s = stripComment(line);
      if (s === '') return ctx.ignore();
      if (s[0] === '/') {
        const u = normalizeUrl(s);
        return u ? ctx.emit('url', u, 0, -1, null, family) : ctx.malformed(line);
      }
      if (!ctx.token(s, -1, null, family)) ctx.malformed(line);
    });
  },
};
