/**
 * Tolerant readers for Kubernetes API objects as JSON (`kubectl get -o json`,
 * a watch event's `object`). Objects come from outside and may be partial or
 * malformed, so nothing here trusts a shape: every accessor checks the type
 * and returns undefined (the caller counts the cause) rather than throwing.
 */

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonObject = { [k: string]: Json };

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function obj(v: unknown, key: string): JsonObject | undefined {
  if (!isObject(v)) return undefined;
  const r = v[key];
  return isObject(r) ? r : undefined;
}

export function str(v: unknown, key: string): string | undefined {
  if (!isObject(v)) return undefined;
  const r = v[key];
  return typeof r === 'string' && r !== '' ? r : undefined;
}

export function arr(v: unknown, key: string): Json[] | undefined {
  if (!isObject(v)) return undefined;
  const r = v[key];
  return Array.isArray(r) ? r : undefined;
}

/** RFC 3339 text → seconds since the epoch (fractional), or NaN. */
export function parseTime(text: string | undefined): number {
  if (text === undefined) return NaN;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? ms / 1000 : NaN;
}

/** String-valued entries of a labels map (others are dropped). */
export function stringMap(v: JsonObject | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!v) return out;
  for (const k of Object.keys(v)) {
    const x = v[k];
    if (typeof x === 'string') out[k] = x;
  }
  return out;
}

export interface OwnerRef {
  readonly kind: string;
  readonly name: string;
  readonly uid?: string;
}

/** The controlling owner reference (controller: true), else the first valid one. */
export function controllerRef(o: unknown): OwnerRef | undefined {
  const refs = arr(obj(o, 'metadata'), 'ownerReferences');
  if (!refs) return undefined;
  let first: OwnerRef | undefined;
  for (const r of refs) {
    const kind = str(r, 'kind');
    const name = str(r, 'name');
    if (!kind || !name) continue;
    const ref: OwnerRef = { kind, name, uid: str(r, 'uid') };
    if (isObject(r) && r.controller === true) return ref;
    first ??= ref;
  }
  return first;
}
