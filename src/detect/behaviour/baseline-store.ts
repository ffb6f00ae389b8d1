/**
 * Baselines on disk: one JSON document, versioned, written atomically
 * (temporary file + rename, so a crash mid-write leaves the previous state),
 * read back on start so a restarted sensor neither relearns nor forgets.
 *
 * JSON rather than a binary layout: the state is written every few minutes,
 * not per packet; it stays inspectable (`jq '.subjects[] | .key'`) and
 * diffable; measured size is ~15–40 KB per workload with its flow sample.
 *
 * Shape (version 1):
 * ```json
 * { "format": "harrier-behaviour-baselines", "version": 1, "saved_at": 1764327251,
 *   "bucket_sec": 60,
 *   "learning": { "learned_sec": 600, "done": true, "ended_at": 1764320000 },
 *   "subjects": [ { "key": "shop/cart", "level": "workload", "first_seen": …, "last_seen": …, "last_bucket": …,
 *                   "rates": { "conn_out": [n, mean, var, …72 hourly values], … },
 *                   "sets": { "peer_out": { "max": 1024, "evicted": 0, "items": [["shop/redis", first, last, n], …] }, … },
 *                   "routes": { "/cart/:id": { "req": […], "e4": […], "e5": […], "last_bucket": … } },
 *                   "models": { "out tcp/5432": { "seen": 1234, "rows": [[…12 features…], …], "trained": true }, … } } ] }
 * ```
 * Unknown rate or set names are ignored (a later version may add some);
 * another `format` or a higher `version` is refused with
 * HARRIER_ERR_BEHAVIOUR_STATE, as is a file that is not JSON.
 */
import { readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { HarrierError } from '../../errors.js';
import type { FlowModelState } from './model/flow-model.js';

export const STATE_FORMAT = 'harrier-behaviour-baselines';
export const STATE_VERSION = 1;

export interface RouteState {
  req: number[];
  e4: number[];
  e5: number[];
  last_bucket: number;
}

export interface SubjectState {
  key: string;
  level: string;
  first_seen: number;
  last_seen: number;
  last_bucket: number;
  rates: Record<string, number[]>;
  sets: Record<string, unknown>;
  routes?: Record<string, RouteState>;
  /** Flow models by service (`out tcp/5432`, `in tcp/8080`): the sample, retrained on load when it was trained. */
  models?: Record<string, FlowModelState & { trained: boolean }>;
}

export interface BaselineStateFile {
  format: typeof STATE_FORMAT;
  version: number;
  saved_at: number;
  bucket_sec: number;
  learning: { learned_sec: number; done: boolean; ended_at: number };
  subjects: SubjectState[];
}

function bad(path: string, why: string): never {
  throw new HarrierError('HARRIER_ERR_BEHAVIOUR_STATE', `behaviour state ${path}: ${why}`);
}

/** Read a state file; null when it does not exist (first start). */
export function readBaselineState(path: string): BaselineStateFile | null {
  if (!existsSync(path)) return null;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    return bad(path, `cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return bad(path, 'not JSON (truncated or corrupt)');
  }
  if (typeof doc !== 'object' || doc === null || (doc as { format?: unknown }).format !== STATE_FORMAT) return bad(path, `not a ${STATE_FORMAT} file`);
  const d = doc as Partial<BaselineStateFile>;
  if (typeof d.version !== 'number' || d.version > STATE_VERSION || d.version < 1) return bad(path, `version ${String(d.version)} is not supported (this Harrier reads up to ${STATE_VERSION})`);
  if (typeof d.bucket_sec !== 'number' || !(d.bucket_sec > 0)) return bad(path, 'bucket_sec missing');
  if (!Array.isArray(d.subjects)) return bad(path, 'subjects missing');
  const l = d.learning;
  if (typeof l !== 'object' || l === null || typeof l.learned_sec !== 'number') return bad(path, 'learning missing');
  return d as BaselineStateFile;
}

/** Write atomically. Throws HARRIER_ERR_OUTPUT when the folder is not writable. */
export function writeBaselineState(path: string, state: BaselineStateFile): number {
  const tmp = `${path}.tmp-${process.pid}`;
  const text = JSON.stringify(state);
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  } catch (err) {
    throw new HarrierError('HARRIER_ERR_OUTPUT', `cannot write behaviour state ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  return text.length;
}
