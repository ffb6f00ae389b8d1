/**
 * The flow key's hash: one 32-bit number from the normalised 5-tuple plus
 * VLAN ids and tunnel id, equal for both directions of a flow.
 *
 * Normalisation orders the two endpoints (address, then port) so that A→B and
 * B→A feed the same words to the mixer. No strings, no allocation: the table
 * compares candidate flows field by field after the hash picks the bucket.
 * Mixing is MurmurHash3's 32-bit round and finaliser (public algorithm).
 */

function round(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function finish(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The word that carries protocol, VLANs and tunnel id into the hash. */
export function keyExtra(proto: number, vlan0: number, vlan1: number, tunnel: number, tunnelId: number): number {
  return (proto | (tunnel << 8) | (vlan0 << 12)) ^ Math.imul(vlan1 + 1, 0x9e3779b1) ^ Math.imul(tunnelId, 0x27d4eb2f);
}

/** Symmetric hash of an IPv4 key. Addresses are unsigned 32-bit numbers. */
export function flowHash4(a: number, b: number, pa: number, pb: number, extra: number): number {
  let x = a;
  let y = b;
  let p = (pa << 16) | pb;
  if (a > b || (a === b && pa > pb)) {
    x = b;
    y = a;
    p = (pb << 16) | pa;
  }
  let h = round(0x3c6ef372, x);
  h = round(h, y);
  h = round(h, p);
  h = round(h, extra);
  return finish(h ^ 16);
}

/** -1, 0, 1 comparing two IPv6 addresses (four unsigned words each). */
export function cmp6(a: Uint32Array, b: Uint32Array): number {
  for (let i = 0; i < 4; i++) {
    if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  }
  return 0;
}

/** Symmetric hash of an IPv6 key. */
export function flowHash6(a: Uint32Array, b: Uint32Array, pa: number, pb: number, extra: number): number {
  const c = cmp6(a, b);
  let x = a;
  let y = b;
  let p = (pa << 16) | pb;
  if (c > 0 || (c === 0 && pa > pb)) {
    x = b;
    y = a;
    p = (pb << 16) | pa;
  }
  let h = 0x3c6ef372;
  for (let i = 0; i < 4; i++) h = round(h, x[i]);
  for (let i = 0; i < 4; i++) h = round(h, y[i]);
  h = round(h, p);
  h = round(h, extra);
  return finish(h ^ 40);
}

/** Field-wise equality of two IPv6 addresses. */
export function eq6(a: Uint32Array, b: Uint32Array): boolean {
  return a[0] === b[0] && a[1] === b[1] && a[2] === b[2] && a[3] === b[3];
}
