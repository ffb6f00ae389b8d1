/**
 * One workload's flow model: a bounded sample of its flow feature vectors
 * (reservoir sampling, so memory is fixed however many flows it makes) and
 * an isolation forest trained on that sample, retrained on a schedule by the
 * owner (anomaly engine). Vectors are built in features.ts (FLOW_FEATURES).
 */
import { IsolationForest, mulberry32, type FeatureContribution } from './isolation-forest.js';

export interface FlowModelOptions {
  /** Sample kept per workload (reservoir). Default 256. */
  reservoir?: number;
  /** Trees per forest. Default 32. */
  trees?: number;
  /** Sub-sample per tree ψ. Default 64. */
  sampleSize?: number;
  /** Seed of sampling and of every forest. Default 1. */
  seed?: number;
  /** Fewest flows to train on. Default 32. */
  minTrain?: number;
  /** Quantile of the training sample's own scores used as calibration. Default 0.99. */
  quantile?: number;
}

export interface FlowModelState {
  seen: number;
  /** Row-major vectors, `min(seen, reservoir)` rows. */
  rows: number[][];
}

export class FlowModel {
  readonly dims: number;
  readonly capacity: number;
  readonly minTrain: number;
  /** float32: features are logs and small integers; half the memory of float64 for the same verdicts. */
  private readonly sample: Float32Array;
  /** Vectors offered so far (reservoir sampling's n). */
  seen = 0;
  private readonly rnd: () => number;
  private forest: IsolationForest | null = null;
  private readonly trees: number;
  private readonly psi: number;
  /** `seen` when last trained (retraining skips models with nothing new). */
  trainedSeen = -1;
  private readonly seed: number;
  /** Sample size the current forest was trained on (0 = untrained). */
  trainedRows = 0;
  /**
   * A high quantile (default 0.99) of the training sample's own scores: a
   * flow is only called unusual when it is more isolated than nearly all the
   * flows the model learned from
   * (calibration per workload; a small or multi-modal sample scores its own
   * rare-but-normal flows high, and a fixed threshold alone would flag them).
   */
  calibration = 0;
  private readonly quantile: number;

  constructor(dims: number, opts: FlowModelOptions = {}) {
    this.dims = dims;
    this.capacity = Math.max(2, opts.reservoir ?? 256);
    this.minTrain = Math.max(2, opts.minTrain ?? 32);
    this.trees = opts.trees ?? 32;
    this.psi = opts.sampleSize ?? 64;
    this.seed = opts.seed ?? 1;
    this.quantile = Math.min(1, Math.max(0.5, opts.quantile ?? 0.99));
    this.sample = new Float32Array(this.capacity * dims);
    this.rnd = mulberry32(this.seed ^ 0x5bd1e995);
  }

  get rows(): number {
    return Math.min(this.seen, this.capacity);
  }

  get trained(): boolean {
    return this.forest !== null;
  }

  /** Offer one vector to the sample (Vitter's algorithm R): O(1), no allocation. */
  add(v: Float64Array): void {
    const d = this.dims;
    let slot: number;
    if (this.seen < this.capacity) slot = this.seen;
    else {
      const j = Math.floor(this.rnd() * (this.seen + 1));
      slot = j < this.capacity ? j : -1;
    }
    this.seen++;
    if (slot >= 0) for (let k = 0; k < d; k++) this.sample[slot * d + k] = v[k];
  }

  /** (Re)train on the current sample; false when it is too small. */
  train(): boolean {
    const n = this.rows;
    if (n < this.minTrain) return false;
    const f = new IsolationForest(this.dims, { trees: this.trees, sampleSize: this.psi, seed: this.seed });
    const rows = Float64Array.from(this.sample.subarray(0, n * this.dims));
    f.fit(rows, n);
    this.forest = f;
    this.trainedRows = n;
    this.trainedSeen = this.seen;
    const scores = new Float64Array(n);
    for (let i = 0; i < n; i++) scores[i] = f.score(rows, i * this.dims);
    scores.sort();
    this.calibration = scores[Math.min(n - 1, Math.floor(this.quantile * n))];
    return true;
  }

  score(v: Float64Array): number {
    return this.forest === null ? 0 : this.forest.score(v);
  }

  explain(v: Float64Array): FeatureContribution[] {
    return this.forest === null ? [] : this.forest.explain(v);
  }

  /** Training medians (what "typical" means in explanations). */
  median(feature: number): number {
    return this.forest === null ? NaN : this.forest.medians[feature];
  }

  get memoryBytes(): number {
    return this.sample.byteLength + (this.forest?.memoryBytes ?? 0);
  }

  toJSON(): FlowModelState {
    const rows: number[][] = [];
    for (let i = 0; i < this.rows; i++) rows.push(Array.from(this.sample.subarray(i * this.dims, (i + 1) * this.dims), (x) => Math.round(x * 1e4) / 1e4));
    return { seen: this.seen, rows };
  }

  /** Restore a persisted sample (rows of the wrong width are skipped); retrains when it was trained before. */
  load(s: FlowModelState, retrain: boolean): void {
    let n = 0;
    for (const r of s.rows) {
      if (!Array.isArray(r) || r.length !== this.dims || n >= this.capacity) continue;
      for (let k = 0; k < this.dims; k++) this.sample[n * this.dims + k] = Number(r[k]) || 0;
      n++;
    }
    this.seen = Math.max(n, Number(s.seen) || 0);
    if (this.seen > n && n < this.capacity) this.seen = n;
    if (retrain) this.train();
  }
}
