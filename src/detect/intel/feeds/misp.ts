/**
 * MISP JSON events: `{"Event":{…,"Attribute":[…],"Object":[{"Attribute":[…]}]}}`,
 * a bare event, an array of either, or `{"response":[…]}`. Attribute types
 * mapped: ip-src, ip-dst (and `|port` forms), domain, hostname, domain|ip, url,
 * uri (as URL), link is ignored, md5, sha1, sha256, x509-fingerprint-sha1,
 * ja3-fingerprint-md5, ja4 (as `ja4-fingerprint`). `to_ids: false` attributes are
 * kept (feeds use both) but other types are ignored. Category comes from the
 * event's tags when obvious (`tor`, `phishing`, `mining`, …), tag = event info.
 */
import { classifyToken, hashKindOf, inferCategory, normalizeDomain, normalizeUrl } from '../normalize.js';
import { FeedContext } from './context.js';
import type { FeedFormat } from './format.js';

interface MispAttr {
  type?: unknown;
  value?: unknown;
}

export const mispFormat: FeedFormat = {
  name: 'misp',
  description: 'MISP JSON event(s): Attribute types ip-src/ip-dst/domain/hostname/url/md5/sha1/sha256/ja3-fingerprint-md5',
  detect(sample) {
    const s = sample.trimStart();
    return (s[0] === '{' || s[0] === '[') && /"Attribute"\s*:/.test(sample) ? 98 : 0;
  },
  parse(text: string, ctx: FeedContext) {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      ctx.malformed(`invalid JSON: ${(e as Error).message}`);
      return;
    }
    const events: unknown[] = [];
    const collect = (x: unknown): void => {
      if (Array.isArray(x)) x.forEach(collect);
      else if (x && typeof x === 'object') {
        const o = x as Record<string, unknown>;
        if (o.response !== undefined) collect(o.response);
        else if (o.Event !== undefined) events.push(o.Event);
        else if (o.Attribute !== undefined) events.push(o);
      }
    };
    collect(doc);
    if (events.length === 0) ctx.malformed('no MISP Event found');
    for (const ev of events) {
      if (!ev || typeof ev !== 'object') continue;
      const e = ev as Record<string, unknown>;
      const info = typeof e.info === 'string' ? e.info.slice(0, 200) : null;
      let cat: string | null = null;
      if (Array.isArray(e.Tag)) {
        for (const t of e.Tag as Array<{ name?: unknown }>) {
          if (t && typeof t.name === 'string') cat ??= inferCategory(t.name);
        }
      }
      cat ??= info ? inferCategory(info) : null;
      const attrs: MispAttr[] = [];
      if (Array.isArray(e.Attribute)) attrs.push(...(e.Attribute as MispAttr[]));
      if (Array.isArray(e.Object)) {
        for (const ob of e.Object as Array<{ Attribute?: unknown }>) {
          if (ob && Array.isArray(ob.Attribute)) attrs.push(...(ob.Attribute as MispAttr[]));
        }
      }
      for (const a of attrs) {
        ctx.report.lines++;
        if (!a || typeof a.type !== 'string' || typeof a.value !== 'string') {
          ctx.malformed(JSON.stringify(a).slice(0, 120));
          continue;
        }
        mispAttribute(ctx, a.type, a.value, cat, info);
      }
    }
  },
};

function mispAttribute(ctx: FeedContext, type: string, value: string, cat: string | null, tag: string | null): void {
  const bad = (): void => ctx.malformed(`${type}: ${value}`);
  switch (type) {
    case 'ip-src':
    case 'ip-dst': {
      const c = classifyToken(value);
      if (!c || (c.kind !== 'ipv4' && c.kind !== 'ipv6')) return bad();
      return ctx.emit(c.kind, c.value, 0, -1, cat, tag);
    }
    case 'ip-src|port':
    case 'ip-dst|port': {
      const bar = value.lastIndexOf('|');
      const c = classifyToken(value.slice(0, bar));
      const port = Number(value.slice(bar + 1));
      if (bar < 0 || !c || (c.kind !== 'ipv4' && c.kind !== 'ipv6') || !(port >= 0 && port <= 65535)) return bad();
      return ctx.emit(c.kind, c.value, port, -1, cat, tag);
    }
    case 'domain':
    case 'hostname': {
      const d = normalizeDomain(value);
      return d ? ctx.emit('domain', d, 0, -1, cat, tag) : bad();
    }
    case 'domain|ip': {
      const [dn, ip] = value.split('|');
      const d = normalizeDomain(dn ?? '');
      const c = classifyToken(ip ?? '');
      if (!d || !c) return bad();
      ctx.emit('domain', d, 0, -1, cat, tag);
      return ctx.emit(c.kind, c.value, 0, -1, cat, tag);
    }
    case 'url':
    case 'uri': {
      const u = normalizeUrl(value);
      return u ? ctx.emit('url', u, 0, -1, cat, tag) : bad();
    }
    case 'md5':
    case 'sha1':
    case 'sha256':
    case 'x509-fingerprint-sha1':
    case 'x509-fingerprint-md5':
    case 'x509-fingerprint-sha256': {
      const k = hashKindOf(value);
      return k ? ctx.emit(k, value.toLowerCase(), 0, -1, cat, tag) : bad();
    }
    case 'ja3-fingerprint-md5':
      return hashKindOf(value) === 'md5' ? ctx.emit('ja3', value.toLowerCase(), 0, -1, cat, tag) : bad();
    case 'ja4-fingerprint':
    case 'ja4':
      return /^[a-z0-9_]{10,80}$/i.test(value) ? ctx.emit('ja4', value.toLowerCase(), 0, -1, cat, tag) : bad();
    default:
      ctx.ignore();
  }
}
