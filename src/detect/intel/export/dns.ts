/**
 * DNS blocklists for the malicious domain set.
 *
 * - RPZ (DNS Response Policy Zones, draft-vixie-dnsop-dns-rpz): a zone file
 *   with SOA and NS, then for each domain `d CNAME .` (NXDOMAIN) and
 *   `*.d CNAME .` for its subdomains; owner names are relative to the zone.
 * - dnsmasq: `address=/d/` — answered locally with no address (NXDOMAIN) for
 *   d and every subdomain (`server=/d/` style with --dnsmasq-server).
 * - CoreDNS `hosts` plugin file: `0.0.0.0 d` and `:: d`; the hosts plugin
 *   matches exact names only, so every listed name is written (not only the
 *   roots) and subdomains of a listed name are NOT blocked.
 */

export interface RpzOptions {
  /** Zone origin (default `rpz.harrier.`). */
  zone?: string;
  /** SOA serial (default: seconds since the epoch / 60, so it grows between runs). */
  serial?: number;
  ttl?: number;
}

export function rpzZone(domainRoots: readonly string[], o: RpzOptions = {}): string {
  const zone = (o.zone ?? 'rpz.harrier').replace(/\.?$/, '.');
  const serial = o.serial ?? Math.floor(Date.now() / 60_000);
  const ttl = o.ttl ?? 300;
  const lines = [
    `; Harrier threat-intel response policy zone: ${domainRoots.length} domains (and their subdomains) answer NXDOMAIN.`,
    `$ORIGIN ${zone}`,
    `$TTL ${ttl}`,
    `@ IN SOA localhost. hostmaster.localhost. ${serial} 3600 600 604800 ${ttl}`,
    `@ IN NS localhost.`,
  ];
  for (const d of domainRoots) lines.push(`${d} CNAME .`, `*.${d} CNAME .`);
  return lines.join('\n') + '\n';
}

export function dnsmasqList(domainRoots: readonly string[], mode: 'address' | 'server' = 'address'): string {
  const head = `# Harrier threat-intel blocklist for dnsmasq: ${domainRoots.length} domains and their subdomains.\n`;
  return head + domainRoots.map((d) => (mode === 'address' ? `address=/${d}/` : `server=/${d}/`)).join('\n') + (domainRoots.length ? '\n' : '');
}

export function corednsHosts(domains: readonly string[]): string {
  const head = `# Harrier threat-intel blocklist for the CoreDNS hosts plugin: ${domains.length} names (exact names only).\n`;
  return head + domains.map((d) => `0.0.0.0 ${d}\n:: ${d}`).join('\n') + (domains.length ? '\n' : '');
}
