/**
 * Kubernetes egress policy for the malicious IP set.
 *
 * Object size: every object goes to the API server in one request, and etcd
 * refuses requests above its `--max-request-bytes` (default 1.5 MiB,
 * https://etcd.io/docs/latest/dev-guide/limit/); the API server itself caps a
 * request body at 3 MiB. So CIDRs are split into objects of at most
 * `maxCidrs` entries (default 10,000 ≈ 200–450 KB as JSON) AND at most
 * `maxObjectBytes` of JSON (default 800 KiB), whichever comes first.
 *
 * Calico: one GlobalNetworkSet per chunk (label `harrier.io/intel: blocked`)
 * and, in a Tier of its own (`harrier-intel`, ordered before the default
 * tier), a GlobalNetworkPolicy whose egress rules are Deny to those sets,
 * then Pass — so everything else goes on to the next tier unchanged (a tier
 * that selects an endpoint and decides nothing would drop the packet).
 *
 * Cilium: one CiliumClusterwideNetworkPolicy per chunk, selecting every
 * endpoint, with `egressDeny: [{toCIDRSet: …}]` and
 * `enableDefaultDeny: {egress: false, ingress: false}` so a deny-only policy
 * does not put the pods into default-deny (Cilium ≥ 1.15; older releases need
 * an allow-all egress policy beside it).
 */

export interface PolicyOptions {
  /** Name prefix of the objects (default `harrier-intel`). */
  name?: string;
  maxCidrs?: number;
  maxObjectBytes?: number;
}

export type K8sObject = Record<string, unknown>;

const LABEL = 'harrier.io/intel';

/** Splits CIDRs into chunks bounded by count and by their JSON size. */
export function chunkCidrs(cidrs: readonly string[], maxCidrs: number, maxBytes: number, overhead = 400): string[][] {
  const out: string[][] = [];
  let cur: string[] = [];
  let bytes = overhead;
  for (const c of cidrs) {
    const b = c.length + 16; // quotes, comma, and a `{cidr: …}` wrapper at most
    if (cur.length > 0 && (cur.length >= maxCidrs || bytes + b > maxBytes)) {
      out.push(cur);
      cur = [];
      bytes = overhead;
    }
    cur.push(c);
    bytes += b;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

const pad = (i: number): string => String(i).padStart(4, '0');

export function calicoObjects(cidrs: readonly string[], o: PolicyOptions = {}): K8sObject[] {
  const name = o.name ?? 'harrier-intel';
  const chunks = chunkCidrs(cidrs, o.maxCidrs ?? 10_000, o.maxObjectBytes ?? 800 * 1024);
  const objs: K8sObject[] = [
    {
      apiVersion: 'projectcalico.org/v3',
      kind: 'Tier',
      metadata: { name },
      spec: { order: 90 },
    },
  ];
  chunks.forEach((nets, i) => {
    objs.push({
      apiVersion: 'projectcalico.org/v3',
      kind: 'GlobalNetworkSet',
      metadata: { name: `${name}-${pad(i + 1)}`, labels: { [LABEL]: 'blocked', 'app.kubernetes.io/managed-by': 'harrier' } },
      spec: { nets },
    });
  });
  objs.push({
    apiVersion: 'projectcalico.org/v3',
    kind: 'GlobalNetworkPolicy',
    // Policies of a non-default tier are named `<tier>.<name>`.
    metadata: { name: `${name}.deny-egress` },
    spec: {
      tier: name,
      order: 10,
      selector: 'all()',
      types: ['Egress'],
      egress: [{ action: 'Deny', destination: { selector: `${LABEL} == 'blocked'` } }, { action: 'Pass' }],
    },
  });
  return objs;
}

export function ciliumObjects(cidrs: readonly string[], o: PolicyOptions = {}): K8sObject[] {
  const name = o.name ?? 'harrier-intel';
  const chunks = chunkCidrs(cidrs, o.maxCidrs ?? 10_000, o.maxObjectBytes ?? 800 * 1024);
  return chunks.map((set, i) => ({
    apiVersion: 'cilium.io/v2',
    kind: 'CiliumClusterwideNetworkPolicy',
    metadata: { name: `${name}-${pad(i + 1)}`, labels: { 'app.kubernetes.io/managed-by': 'harrier' } },
    spec: {
      description: `Harrier threat intel: deny egress to listed networks (part ${i + 1} of ${chunks.length})`,
      endpointSelector: {},
      enableDefaultDeny: { egress: false, ingress: false },
      egressDeny: [{ toCIDRSet: set.map((cidr) => ({ cidr })) }],
    },
  }));
}
