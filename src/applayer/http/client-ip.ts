/**
 * Original-client candidates from proxy headers.
 *
 * A request relayed by proxies or an ingress controller carries the real
 * client in X-Forwarded-For (comma list, client first), Forwarded (RFC 7239
 * `for=` parameters, possibly quoted, IPv6 in brackets, with ports) or
 * X-Real-IP. These are claims anyone can forge, so they are kept as
 * candidates in header order (Forwarded, then X-Forwarded-For, then
 * X-Real-IP), deduplicated, never as the flow's source address.
 */
import { isIP } from 'node:net';

/** Strip quotes, brackets and a port from one node token; '' when it is not an IP address. */
function nodeAddress(tok: string): string {
  let t = tok.trim();
  if (t.length >= 2 && t.startsWith('"') && t.endsWith('"')) t = t.slice(1, -1).trim();
  if (t.startsWith('[')) {
    const close = t.indexOf(']');
    t = close > 0 ? t.slice(1, close) : t.slice(1);
  } else if (t.indexOf(':') === t.lastIndexOf(':') && t.includes(':') && t.includes('.')) {
    t = t.slice(0, t.indexOf(':')); // IPv4:port
  }
  return isIP(t) !== 0 ? t.toLowerCase() : '';
}

/** Candidate client addresses from the (combined) header values; absent headers are null. */
export function originalClients(forwarded: string | null, xff: string | null, xRealIp: string | null): string[] {
  const out: string[] = [];
  const add = (a: string): void => {
    if (a !== '' && !out.includes(a) && out.length < 16) out.push(a);
  };
  if (forwarded !== null) {
    for (const elem of forwarded.split(',')) {
      for (const pair of elem.split(';')) {
        const eq = pair.indexOf('=');
        if (eq > 0 && pair.slice(0, eq).trim().toLowerCase() === 'for') add(nodeAddress(pair.slice(eq + 1)));
      }
    }
  }
  if (xff !== null) for (const tok of xff.split(',')) add(nodeAddress(tok));
  if (xRealIp !== null) add(nodeAddress(xRealIp));
  return out;
}
