/**
 * Offline Kubernetes state for captures: `kubectl get … -o json` documents
 * fed into an IdentityIndex as a watch would have delivered them.
 *
 * A path is
 *  - a file: one List document (`{"kind":"List","items":[…]}`, or a typed
 *    list such as `PodList` whose items may omit `kind`), or one object;
 *  - a folder of such files (`*.json`, not recursive): one snapshot;
 *  - a folder of timestamped snapshots: entries (files or folders) whose
 *    names start with an RFC 3339 UTC time, `2026-11-28T10:54:11Z` or, for
 *    file systems without `:`, `2026-11-28T10-54-11Z` (fractions allowed,
 *    anything may follow: `2026-11-28T10:54:11Z-pods.json`). They are applied
 *    in time order, each at its time; an object present in one snapshot and
 *    absent from the next is taken as deleted at the later snapshot's time.
 *
 * An untimestamped snapshot has no observation time: pods are placed by
 * their own timestamps (creation, deletion, container finishedAt).
 *
 * Errors: an unreadable path or a file that is not JSON is a HarrierError
 * (HARRIER_ERR_K8S_SNAPSHOT); anything wrong inside a valid JSON document is
 * counted in the index's problems and skipped.
 */
import { readdirSync, readFileSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { HarrierError } from '../errors.js';
import type { IdentityIndex } from './identity-index.js';
import { arr, isObject, obj, str } from './objects.js';

export interface SnapshotLoadResult {
  /** Files read. */
  files: number;
  /** Objects handed to the index. */
  objects: number;
  /** Timestamped snapshots applied (0 when none were timestamped). */
  timedSnapshots: number;
}

const TIME_PREFIX = /^(\d{4}-\d{2}-\d{2})T(\d{2})[:-](\d{2})[:-](\d{2})(\.\d+)?Z/;

/** Seconds since the epoch from a snapshot entry's name, or NaN when it has no RFC 3339 prefix. */
export function snapshotTime(name: string): number {
  const m = TIME_PREFIX.exec(name);
  if (!m) return NaN;
  const ms = Date.parse(`${m[1]}T${m[2]}:${m[3]}:${m[4]}${m[5] ?? ''}Z`);
  return Number.isFinite(ms) ? ms / 1000 : NaN;
}

function statPath(path: string): Stats {
  try {
    return statSync(path);
  } catch (err) {
    throw new HarrierError('HARRIER_ERR_K8S_SNAPSHOT', `cannot read Kubernetes snapshot ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

function listDir(path: string): string[] {
  try {
    return readdirSync(path).sort();
  } catch (err) {
    throw new HarrierError('HARRIER_ERR_K8S_SNAPSHOT', `cannot read Kubernetes snapshot folder ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

/** The objects of one document file (List, typed list or single object), kind filled in from a typed list. */
export function readSnapshotFile(path: string, index: IdentityIndex): unknown[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new HarrierError('HARRIER_ERR_K8S_SNAPSHOT', `cannot read Kubernetes snapshot ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new HarrierError('HARRIER_ERR_K8S_SNAPSHOT', `Kubernetes snapshot ${path} is not JSON: ${(err as Error).message.split('\n')[0]}`);
  }
  if (!isObject(doc)) {
    index.problem('document.not_an_object', `${path}: the document is not a JSON object`);
    return [];
  }
  const items = arr(doc, 'items');
  if (!items) {
    if (str(doc, 'kind')) return [doc];
    index.problem('document.no_items', `${path}: neither a List (items) nor a Kubernetes object (kind)`);
    return [];
  }
  const listKind = str(doc, 'kind');
  const itemKind = listKind && listKind !== 'List' && listKind.endsWith('List') ? listKind.slice(0, -4) : undefined;
  if (!itemKind) return items;
  // Typed lists (PodList from the API) omit kind on their items.
  return items.map((it) => (isObject(it) && !str(it, 'kind') ? { ...it, kind: itemKind } : it));
}

/** Files of one snapshot: a file, or a folder's *.json files. */
function snapshotFiles(path: string): string[] {
  const st = statPath(path);
  if (!st.isDirectory()) return [path];
  return listDir(path)
    .filter((n) => n.endsWith('.json'))
    .map((n) => join(path, n))
    .filter((p) => statPath(p).isFile());
}

function identityKey(o: unknown): string | undefined {
  if (!isObject(o)) return undefined;
  const meta = obj(o, 'metadata');
  const id = str(meta, 'uid') ?? `${str(meta, 'namespace') ?? ''}/${str(meta, 'name') ?? ''}`;
  return `${str(o, 'kind') ?? ''}/${id}`;
}

/** Loads every path (file, folder, or folder of timestamped snapshots) into `index`. */
export function loadSnapshots(paths: readonly string[], index: IdentityIndex): SnapshotLoadResult {
  const res: SnapshotLoadResult = { files: 0, objects: 0, timedSnapshots: 0 };
  for (const path of paths) {
    const st = statPath(path);
    const timed = st.isDirectory()
      ? listDir(path)
          .map((n) => ({ name: n, t: snapshotTime(n) }))
          .filter((e) => Number.isFinite(e.t))
          .sort((a, b) => a.t - b.t)
      : [];
    if (timed.length === 0) {
      for (const f of snapshotFiles(path)) {
        res.files++;
        for (const o of readSnapshotFile(f, index)) {
          index.upsert(o, NaN);
          res.objects++;
        }
      }
      continue;
    }
    // Entries sharing a time (e.g. 10:54:11Z-pods.json and 10:54:11Z-nodes.json) form one snapshot.
    let prev = new Map<string, unknown>();
    for (let i = 0; i < timed.length; ) {
      const t = timed[i].t;
      const cur = new Map<string, unknown>();
      for (; i < timed.length && timed[i].t === t; i++) {
        for (const f of snapshotFiles(join(path, timed[i].name))) {
          res.files++;
          for (const o of readSnapshotFile(f, index)) {
            index.upsert(o, t);
            res.objects++;
            const k = identityKey(o);
            if (k) cur.set(k, o);
          }
        }
      }
      for (const [k, o] of prev) if (!cur.has(k)) index.remove(o, t);
      prev = cur;
      res.timedSnapshots++;
    }
  }
  return res;
}
