/**
 * Isolation forest (Liu, Ting, Zhou 2008) over fixed-width numeric vectors.
 *
 * Why this model: it needs no labels, trains in O(t·ψ·log ψ) on a small
 * sample, scores in O(t·log ψ) with no allocation, and its score has a fixed
 * meaning (≈0.5 ordinary, → 1 isolated quickly = unusual) whatever the
 * features' scales, so one threshold serves every workload.
 *
 * Written here rather than taken from npm: the packages found are either
 * unmaintained or allocate per scored sample; we need a seeded, reproducible
 * build (same data + seed → same trees, for tests and for retraining after a
 * restart from the persisted sample) and trees in flat typed arrays.
 *
 * Layout: all trees share flat arrays built in pre-order, so a node's left
 * child is the next node and only the right child's index is stored; node i
 * has `feat[i]` (-1 = leaf), `split[i]` (float32: a split anywhere between
 * two training values is as good as any other), `right[i]`, and for leaves
 * `size[i]` (training points that reached it, for the c(n) correction of the
 * path length). Arrays are trimmed to the nodes used.
 *
 * One deliberate change to the original algorithm: an internal node also
 * keeps the range its training points spanned on the split feature, widened
 * by its own width on each side, and a point outside it is isolated at that
 * node. The
 * original sends such a point on with the boundary points, so a flow that is
 * ordinary in every feature but one (100× the usual bytes) scores like the
 * largest ordinary flow; with the range check it is isolated as soon as a
 * tree splits on that feature. Points inside the ranges score exactly as in
 * the original. 19 bytes a node.
 *
 * Attribution: `explain(x)` says which features made x unusual by asking,
 * per feature j, how much the score drops when x_j is replaced by the
 * training median of feature j ("had this one value been typical, how odd
 * would the flow still be?"). Simple, model-agnostic and readable in an alert.
 */

/** Deterministic 32-bit PRNG (mulberry32): small, fast, good enough for sampling and splits. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/** The float32 just above / below a float32 value (finite, non-zero handled by sign). */
function nextUp(x: number): number {
  F32[0] = x;
  if (x === 0) return 1.4e-45;
  U32[0] += x > 0 ? 1 : -1;
  return F32[0];
}

function nextDown(x: number): number {
  return -nextUp(-x);
}

/** Average path length of an unsuccessful BST search among n points: the normaliser c(n). */
export function avgPathLength(n: number): number {
  if (n <= 1) return 0;
  if (n === 2) return 1;
  const h = Math.log(n - 1) + 0.5772156649015329;
  return 2 * h - (2 * (n - 1)) / n;
}

export interface IsolationForestOptions {
  /** Trees. Default 100 (the paper's choice; scores are stable beyond it). */
  trees?: number;
  /** Sub-sample size per tree ψ. Default 256 (the paper's choice). */
  sampleSize?: number;
  /** PRNG seed. Default 1. */
  seed?: number;
}

export interface FeatureContribution {
  feature: number;
  /** Score drop when this feature is set to its training median (≥ 0 means it made x more unusual). */
  delta: number;
}

export class IsolationForest {
  readonly dims: number;
  readonly trees: number;
  readonly sampleSize: number;
  private feat = new Int8Array(0);
  private split = new Float32Array(0);
  private right = new Int32Array(0);
  private size = new Uint16Array(0);
  private lo = new Float32Array(0);
  private hi = new Float32Array(0);
  private roots = new Int32Array(0);
  private nodes = 0;
  private heightLimit = 0;
  private cPsi = 1;
  /** Per-feature training medians (attribution baseline). */
  medians: Float64Array;
  /** Training points used. */
  trainedOn = 0;
  private readonly seed: number;
  private readonly scratch: Float64Array;

  constructor(dims: number, opts: IsolationForestOptions = {}) {
    this.dims = dims;
    this.trees = Math.max(1, opts.trees ?? 100);
    this.sampleSize = Math.min(4096, Math.max(2, opts.sampleSize ?? 256));
    this.seed = opts.seed ?? 1;
    this.medians = new Float64Array(dims);
    this.scratch = new Float64Array(dims);
  }

  get trained(): boolean {
    return this.trainedOn > 0;
  }

  /** Build the forest from `n` row-major vectors in `data` (length n·dims). Deterministic for (data, seed). */
  fit(data: Float64Array, n: number): void {
    const d = this.dims;
    if (n < 2) throw new RangeError('isolation forest needs at least 2 points');
    if (d > 127) throw new RangeError('isolation forest supports at most 127 features');
    const rnd = mulberry32(this.seed);
    const psi = Math.min(this.sampleSize, n);
    this.heightLimit = Math.ceil(Math.log2(psi));
    this.cPsi = avgPathLength(psi);
    // A tree on ψ points has at most 2ψ-1 nodes.
    const cap = this.trees * (2 * psi - 1);
    this.feat = new Int8Array(cap);
    this.split = new Float32Array(cap);
    this.right = new Int32Array(cap);
    this.size = new Uint16Array(cap);
    this.lo = new Float32Array(cap);
    this.hi = new Float32Array(cap);
    this.roots = new Int32Array(this.trees);
    this.nodes = 0;
    const idx = new Int32Array(n);
    for (let i = 0; i < n; i++) idx[i] = i;
    const sample = new Int32Array(psi);
    for (let t = 0; t < this.trees; t++) {
      // Partial Fisher–Yates: ψ distinct points without replacement.
      for (let i = 0; i < psi; i++) {
        const j = i + Math.floor(rnd() * (n - i));
        const tmp = idx[i];
        idx[i] = idx[j];
        idx[j] = tmp;
        sample[i] = idx[i];
      }
      this.roots[t] = this.build(data, sample, 0, psi, 0, rnd);
    }
    this.feat = this.feat.slice(0, this.nodes);
    this.split = this.split.slice(0, this.nodes);
    this.right = this.right.slice(0, this.nodes);
    this.size = this.size.slice(0, this.nodes);
    this.lo = this.lo.slice(0, this.nodes);
    this.hi = this.hi.slice(0, this.nodes);
    // Medians per feature for attribution.
    const col = new Float64Array(n);
    for (let j = 0; j < d; j++) {
      for (let i = 0; i < n; i++) col[i] = data[i * d + j];
      col.sort();
      this.medians[j] = n % 2 === 1 ? col[(n - 1) >> 1] : (col[n / 2 - 1] + col[n / 2]) / 2;
    }
    this.trainedOn = n;
  }

  private build(data: Float64Array, s: Int32Array, lo: number, hi: number, depth: number, rnd: () => number): number {
    const node = this.nodes++;
    const count = hi - lo;
    const d = this.dims;
    if (depth >= this.heightLimit || count <= 1) return this.leaf(node, count);
    // Choose among the features that vary in this subset (a constant one cannot split).
    let f = -1;
    let mn = 0;
    let mx = 0;
    const start = Math.floor(rnd() * d);
    for (let k = 0; k < d; k++) {
      const j = (start + k) % d;
      let a = Infinity;
      let b = -Infinity;
      for (let i = lo; i < hi; i++) {
        const v = data[s[i] * d + j];
        if (v < a) a = v;
        if (v > b) b = v;
      }
      if (b > a) {
        f = j;
        mn = a;
        mx = b;
        break;
      }
    }
    if (f < 0) return this.leaf(node, count);
    const sp = mn + rnd() * (mx - mn);
    // Partition s[lo..hi) in place: < sp to the left.
    let i = lo;
    let j = hi - 1;
    while (i <= j) {
      if (data[s[i] * d + f] < sp) i++;
      else {
        const tmp = s[i];
        s[i] = s[j];
        s[j] = tmp;
        j--;
      }
    }
    this.feat[node] = f;
    // Rounded outwards to float32 so that every training value lies inside.
    // Widened by the range's own width on each side: an unsampled but ordinary point just past a
    // narrow deep node's range is not "isolated" by it; a point far beyond the data is.
    const w = mx - mn;
    this.lo[node] = mn - w;
    if (this.lo[node] > mn - w) this.lo[node] = nextDown(this.lo[node]);
    this.hi[node] = mx + w;
    if (this.hi[node] < mx + w) this.hi[node] = nextUp(this.hi[node]);
    // float32 rounding could move the split onto a training value; compare against the stored value.
    this.split[node] = sp;
    const stored = this.split[node];
    if (stored !== sp) {
      i = lo;
      j = hi - 1;
      while (i <= j) {
        if (data[s[i] * d + f] < stored) i++;
        else {
          const tmp = s[i];
          s[i] = s[j];
          s[j] = tmp;
          j--;
        }
      }
    }
    this.build(data, s, lo, i, depth + 1, rnd); // left child = node + 1 (pre-order)
    this.right[node] = this.build(data, s, i, hi, depth + 1, rnd);
    return node;
  }

  private leaf(node: number, count: number): number {
    this.feat[node] = -1;
    this.size[node] = count;
    // A leaf's split slot holds its path-length correction c(size), so scoring takes no logarithm.
    this.split[node] = avgPathLength(count);
    return node;
  }

  /** Mean path length of x (offset `off` in `x`) over the trees. */
  private meanPath(x: Float64Array, off: number): number {
    // Locals: the loop is the model's whole scoring cost.
    const feat = this.feat;
    const split = this.split;
    const lo = this.lo;
    const hi = this.hi;
    const right = this.right;
    const roots = this.roots;
    let total = 0;
    for (let t = 0; t < roots.length; t++) {
      let n = roots[t];
      let depth = 0;
      let f = feat[n];
      for (;;) {
        if (f < 0) {
          total += depth + split[n]; // leaf: c(size) kept in split
          break;
        }
        const v = x[off + f];
        if (v < lo[n] || v > hi[n]) {
          total += depth + 1; // outside what this node's points spanned: alone here
          break;
        }
        n = v < split[n] ? n + 1 : right[n];
        depth++;
        f = feat[n];
      }
    }
    return total / roots.length;
  }

  /** Anomaly score in (0, 1]: 2^(-E[h(x)]/c(ψ)). About 0.5 or less for ordinary points. */
  score(x: Float64Array, off = 0): number {
    if (!this.trained) return 0;
    return Math.pow(2, -this.meanPath(x, off) / this.cPsi);
  }

  /** Per-feature contributions, largest first (only call for flows worth explaining: d extra scorings). */
  explain(x: Float64Array, off = 0): FeatureContribution[] {
    const base = this.score(x, off);
    const s = this.scratch;
    for (let j = 0; j < this.dims; j++) s[j] = x[off + j];
    const out: FeatureContribution[] = [];
    for (let j = 0; j < this.dims; j++) {
      const keep = s[j];
      s[j] = this.medians[j];
      out.push({ feature: j, delta: base - this.score(s, 0) });
      s[j] = keep;
    }
    out.sort((a, b) => b.delta - a.delta);
    return out;
  }

  /** Approximate heap bytes held by the trees. */
  get memoryBytes(): number {
    return this.feat.byteLength + this.split.byteLength + this.lo.byteLength + this.hi.byteLength + this.right.byteLength + this.size.byteLength + this.roots.byteLength + this.medians.byteLength;
  }
}
