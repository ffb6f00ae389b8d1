/**
 * `harrier intel export`: renders the blocking formats from compiled stores.
 * One format per call; the result is a list of files (name + text) the CLI
 * writes into a folder or concatenates to standard output.
 */
import { stringify } from 'yaml';
import type { IntelStore } from '../store.js';
import { corednsHosts, dnsmasqList, rpzZone, type RpzOptions } from './dns.js';
import { calicoObjects, ciliumObjects, type K8sObject, type PolicyOptions } from './policy.js';
import { blockSets, type ExportFilter } from './sets.js';

export const EXPORT_FORMATS = ['calico', 'cilium', 'rpz', 'dnsmasq', 'coredns'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportOptions extends ExportFilter, PolicyOptions, RpzOptions {}

export interface ExportResult {
  files: Array<{ name: string; text: string }>;
  /** One line for the operator. */
  summary: string;
}

/** Names a zone file or dnsmasq can hold: ASCII host names whose full length stays within DNS limits. */
function dnsSafe(d: string, extra: number): boolean {
  return /^[a-z0-9_-]+(\.[a-z0-9_-]+)+$/.test(d) && d.length + extra <= 253 && d.split('.').every((l) => l.length <= 63);
}

function yamlDocs(objs: K8sObject[]): string {
  return objs.map((o) => stringify(o, { lineWidth: 0 })).join('---\n');
}

export function renderExport(format: ExportFormat, stores: readonly IntelStore[], o: ExportOptions = {}): ExportResult {
  const sets = blockSets(stores, o);
  switch (format) {
    case 'calico':
    case 'cilium': {
      const cidrs = [...sets.v4, ...sets.v6];
      const objs = format === 'calico' ? calicoObjects(cidrs, o) : ciliumObjects(cidrs, o);
      const n = format === 'calico' ? objs.filter((x) => x.kind === 'GlobalNetworkSet').length : objs.length;
      return {
        files: [{ name: `${format}-intel.yaml`, text: yamlDocs(objs) }],
        summary: `intel export ${format}: ${sets.v4.length} IPv4 + ${sets.v6.length} IPv6 CIDRs in ${n} object${n === 1 ? '' : 's'}`,
      };
    }
    case 'rpz': {
      const zoneLen = (o.zone ?? 'rpz.harrier').length + 1;
      const ok = sets.domainRoots.filter((d) => dnsSafe(d, zoneLen + 2));
      return {
        files: [{ name: 'intel.rpz.zone', text: rpzZone(ok, o) }],
        summary: `intel export rpz: ${ok.length} domains (+ subdomains)${skipped(sets.domainRoots.length - ok.length)}`,
      };
    }
    case 'dnsmasq': {
      const ok = sets.domainRoots.filter((d) => dnsSafe(d, 0));
      return { files: [{ name: 'intel-dnsmasq.conf', text: dnsmasqList(ok) }], summary: `intel export dnsmasq: ${ok.length} domains (+ subdomains)${skipped(sets.domainRoots.length - ok.length)}` };
    }
    case 'coredns': {
      const ok = sets.domains.filter((d) => dnsSafe(d, 0));
      return { files: [{ name: 'intel-coredns.hosts', text: corednsHosts(ok) }], summary: `intel export coredns: ${ok.length} names (exact)${skipped(sets.domains.length - ok.length)}` };
    }
  }
}

function skipped(n: number): string {
  return n > 0 ? `; ${n} names skipped (not plain ASCII host names, or too long)` : '';
}

export { blockSets } from './sets.js';
export { chunkCidrs, calicoObjects, ciliumObjects } from './policy.js';
export { rpzZone, dnsmasqList, corednsHosts } from './dns.js';
export { mergeRanges4, rangeToCidrs4, mergeRanges6, rangeToCidrs6 } from './cidr.js';
