/**
 * Settings of the baselines, anomalies and flow model: the `baseline`,
 * `anomaly` and `model` sub-blocks of `behaviour:` (config.ts keeps them raw
 * in `extra`; they are parsed here so their names live next to their use).
 *
 * ```yaml
 * behaviour:
 *   baseline:
 *     learning: 10m            # packet time observed before anomalies are raised
 *     bucket: 1m               # rate bucket
 *     state: /var/lib/harrier/baselines.json   # persisted and reloaded on start
 *     save-interval: 5m
 *     half-life: 7d            # slow continued learning after the learning period
 *     hourly-after: 7d         # hour-of-day profiles once there is this much history
 *     subject-learning: 0      # a subject first seen after learning learns this long first (0: judged at once)
 *     max-subjects: 10000
 *     max-set: 1024            # values per categorical set (peers, ports, …)
 *     max-routes: 64           # HTTP routes per subject
 *   anomaly:
 *     z: 6                     # robust z-score threshold
 *     levels: [workload]       # levels whose rate spikes raise (workload, namespace, node, ip)
 *     exfil-min-bytes: 1000000
 *     exfil-factor: 10
 *   model:
 *     enabled: yes
 *     threshold: 0.75          # isolation score at least this …
 *     margin: 0.05             # … and this much above the model's own 99th-percentile training score
 *     trees: 32
 *     sample-size: 64          # ψ, points per tree
 *     reservoir: 256           # flows kept per service model (reservoir sampling)
 *     max-per-subject: 8       # service models per workload (`out tcp/5432`, `in tcp/8080`, …)
 *     retrain: 1h
 *     seed: 1
 * ```
 * Durations are seconds or a number with s/m/h/d.
 */
import { HarrierError } from '../../errors.js';
import type { SubjectLevel } from './baseline.js';

export interface BaselineSettings {
  learningSec: number;
  bucketSec: number;
  statePath: string | null;
  saveIntervalSec: number;
  halfLifeSec: number;
  hourlyAfterSec: number;
  /** Samples an hour-of-day slot needs before it is used. */
  minHourSamples: number;
  subjectLearningSec: number;
  maxSubjects: number;
  maxSet: number;
  maxRoutes: number;
  z: number;
  levels: SubjectLevel[];
  exfilMinBytes: number;
  exfilFactor: number;
  model: { enabled: boolean; threshold: number; margin: number; trees: number; sampleSize: number; reservoir: number; retrainSec: number; seed: number; minTrain: number; maxPerSubject: number };
}

export function defaultBaselineSettings(): BaselineSettings {
  return {
    learningSec: 600,
    bucketSec: 60,
    statePath: null,
    saveIntervalSec: 300,
    halfLifeSec: 7 * 86400,
    hourlyAfterSec: 7 * 86400,
    minHourSamples: 30,
    subjectLearningSec: 0,
    maxSubjects: 10_000,
    maxSet: 1024,
    maxRoutes: 64,
    z: 6,
    levels: ['workload', 'ip'],
    exfilMinBytes: 1_000_000,
    exfilFactor: 10,
    // 32 trees of ψ = 64 rather than the paper's 100 × 256: per-service samples are small and unimodal,
    // the verdicts were the same on the lab, and a model costs ~25 KB instead of ~400 KB (bench/RESULTS.md).
    model: { enabled: true, threshold: 0.75, margin: 0.05, trees: 32, sampleSize: 64, reservoir: 256, retrainSec: 3600, seed: 1, minTrain: 32, maxPerSubject: 8 },
  };
}

function fail(key: string, what: string, v: unknown): never {
  throw new HarrierError('HARRIER_ERR_CONFIG', `config: behaviour.${key} must be ${what}, got ${JSON.stringify(v)}`);
}

/** Seconds from a number or `10s`/`5m`/`2h`/`7d`. */
export function duration(v: unknown, key: string): number {
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return v;
  if (typeof v === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$/.exec(v);
    if (m) return Number(m[1]) * ({ s: 1, m: 60, h: 3600, d: 86400 }[(m[2] ?? 's') as 's' | 'm' | 'h' | 'd']);
  }
  return fail(key, 'a duration (seconds, or a number with s/m/h/d)', v);
}

function num(v: unknown, key: string, min: number, max: number): number {
  const n = typeof v === 'string' && /^\d+(\.\d+)?$/.test(v.trim()) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < min || n > max) fail(key, `a number between ${min} and ${max}`, v);
  return n;
}

function block(v: unknown, key: string): Record<string, unknown> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) fail(key, 'a mapping', v);
  return v as Record<string, unknown>;
}

const LEVELS: readonly SubjectLevel[] = ['workload', 'namespace', 'node', 'ip'];

/** Parse the raw `extra` blocks kept by config.ts (`baseline`/`baselines`, `anomaly`/`anomalies`, `model`). */
export function parseBaselineSettings(extra: Record<string, unknown>, warnings: string[] = []): BaselineSettings {
  const s = defaultBaselineSettings();
  const b = block(extra.baseline ?? extra.baselines, 'baseline');
  const a = block(extra.anomaly ?? extra.anomalies, 'anomaly');
  const m = block(extra.model, 'model');
  for (const [k, v] of Object.entries(b)) {
    const key = `baseline.${k}`;
    switch (k) {
      case 'learning': s.learningSec = duration(v, key); break;
      case 'bucket': s.bucketSec = Math.max(1, duration(v, key)); break;
      case 'state': if (typeof v !== 'string' || v === '') fail(key, 'a file path', v); s.statePath = v; break;
      case 'save-interval': s.saveIntervalSec = duration(v, key); break;
      case 'half-life': s.halfLifeSec = Math.max(1, duration(v, key)); break;
      case 'hourly-after': s.hourlyAfterSec = duration(v, key); break;
      case 'min-hour-samples': s.minHourSamples = num(v, key, 1, 1e6); break;
      case 'subject-learning': s.subjectLearningSec = duration(v, key); break;
      case 'max-subjects': s.maxSubjects = num(v, key, 1, 1e7); break;
      case 'max-set': s.maxSet = num(v, key, 1, 1e6); break;
      case 'max-routes': s.maxRoutes = num(v, key, 1, 1e5); break;
      default: warnings.push(`config: ignoring unknown key behaviour.${key}`);
    }
  }
  for (const [k, v] of Object.entries(a)) {
    const key = `anomaly.${k}`;
    switch (k) {
      case 'z': s.z = num(v, key, 0.5, 1000); break;
      case 'levels':
        if (!Array.isArray(v) || v.some((x) => !LEVELS.includes(x as SubjectLevel))) fail(key, `a list of ${LEVELS.join(', ')}`, v);
        s.levels = v as SubjectLevel[];
        break;
      case 'exfil-min-bytes': s.exfilMinBytes = num(v, key, 0, Number.MAX_SAFE_INTEGER); break;
      case 'exfil-factor': s.exfilFactor = num(v, key, 1, 1e9); break;
      default: warnings.push(`config: ignoring unknown key behaviour.${key}`);
    }
  }
  for (const [k, v] of Object.entries(m)) {
    const key = `model.${k}`;
    switch (k) {
      case 'enabled':
        if (typeof v === 'boolean') s.model.enabled = v;
        else if (v === 'yes' || v === 'no') s.model.enabled = v === 'yes';
        else fail(key, 'yes/no', v);
        break;
      case 'threshold': s.model.threshold = num(v, key, 0, 1); break;
      case 'margin': s.model.margin = num(v, key, 0, 1); break;
      case 'trees': s.model.trees = num(v, key, 1, 1000); break;
      case 'sample-size': s.model.sampleSize = num(v, key, 8, 4096); break;
      case 'max-per-subject': s.model.maxPerSubject = num(v, key, 0, 1024); break;
      case 'reservoir': s.model.reservoir = num(v, key, 8, 65535); break;
      case 'retrain': s.model.retrainSec = duration(v, key); break;
      case 'seed': s.model.seed = num(v, key, 0, 2 ** 32 - 1); break;
      case 'min-train': s.model.minTrain = num(v, key, 2, 65535); break;
      default: warnings.push(`config: ignoring unknown key behaviour.${key}`);
    }
  }
  return s;
}
