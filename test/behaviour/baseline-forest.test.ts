// The isolation forest and the per-service flow model: deterministic for a
// seed, separates a planted outlier from its cluster, names the feature that
// made it unusual, keeps a bounded sample, and survives persistence.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { avgPathLength, IsolationForest, mulberry32 } from '../../src/detect/behaviour/model/isolation-forest.js';
import { FlowModel } from '../../src/detect/behaviour/model/flow-model.js';

/** n points in d dims around `centre` (uniform noise ±spread), row-major. */
function cluster(n: number, d: number, centre: number[], spread: number, seed: number): Float64Array {
  const rnd = mulberry32(seed);
  const out = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) out[i * d + j] = centre[j] + (rnd() * 2 - 1) * spread;
  return out;
}

test('c(n) follows the paper: c(2)=1, c(256)≈10.24', () => {
  assert.equal(avgPathLength(1), 0);
  assert.equal(avgPathLength(2), 1);
  assert.ok(Math.abs(avgPathLength(256) - 10.2448) < 1e-3, String(avgPathLength(256)));
});

test('same data and seed give the same forest; another seed gives other trees but the same verdicts', () => {
  const data = cluster(300, 4, [5, 5, 5, 5], 1, 11);
  const a = new IsolationForest(4, { trees: 60, sampleSize: 128, seed: 42 });
  const b = new IsolationForest(4, { trees: 60, sampleSize: 128, seed: 42 });
  const c = new IsolationForest(4, { trees: 60, sampleSize: 128, seed: 43 });
  a.fit(data, 300);
  b.fit(data, 300);
  c.fit(data, 300);
  const probe = new Float64Array([5.2, 4.9, 5.1, 5.0, 15, 5, 5, 5]);
  assert.equal(a.score(probe, 0), b.score(probe, 0));
  assert.equal(a.score(probe, 4), b.score(probe, 4));
  assert.notEqual(a.score(probe, 0), c.score(probe, 0));
  assert.ok(c.score(probe, 4) > 0.65 && a.score(probe, 4) > 0.65);
});

test('a planted outlier scores high, cluster members score low, and the explanation names the odd feature', () => {
  const d = 5;
  const data = cluster(512, d, [3, 8, 1, 4, 6], 0.5, 3);
  const f = new IsolationForest(d, { trees: 100, sampleSize: 256, seed: 1 });
  f.fit(data, 512);
  let worstInlier = 0;
  for (let i = 0; i < 512; i++) worstInlier = Math.max(worstInlier, f.score(data, i * d));
  let meanInlier = 0;
  for (let i = 0; i < 512; i++) meanInlier += f.score(data, i * d) / 512;
  assert.ok(meanInlier < 0.55, `mean inlier score ${meanInlier}`);
  const odd = new Float64Array([3, 8, 1, 14, 6]); // feature 3 far out
  const s = f.score(odd);
  assert.ok(s > 0.65, `outlier score ${s}`);
  assert.ok(s > worstInlier, `outlier ${s} above every training point (${worstInlier})`);
  const ex = f.explain(odd);
  assert.equal(ex[0].feature, 3, JSON.stringify(ex));
  assert.ok(ex[0].delta > 0.1);
  assert.ok(ex[1].delta < ex[0].delta / 2, 'the other features matter much less');
  assert.ok(f.memoryBytes < 100 * (2 * 256) * 19 + 4096, `memory ${f.memoryBytes}`);
});

test('constant and duplicate data do not break training or scoring', () => {
  const f = new IsolationForest(3, { trees: 10, sampleSize: 64, seed: 1 });
  const same = new Float64Array(3 * 100).fill(7);
  f.fit(same, 100);
  const s = f.score(new Float64Array([7, 7, 7]));
  assert.ok(Number.isFinite(s) && s > 0 && s <= 1);
  assert.ok(f.score(new Float64Array([70, 7, 7])) >= s, 'a different point is never more ordinary than the duplicates');
  assert.throws(() => f.fit(same, 1), RangeError);
});

test('flow model: bounded reservoir, minimum sample, calibration above its own training flows', () => {
  const m = new FlowModel(4, { reservoir: 64, trees: 40, seed: 9, minTrain: 16 });
  const rnd = mulberry32(5);
  const v = new Float64Array(4);
  for (let i = 0; i < 10; i++) {
    v.set([10 + rnd(), 3 + rnd(), 1, 0]);
    m.add(v);
  }
  assert.equal(m.train(), false, 'too few flows');
  for (let i = 0; i < 5000; i++) {
    v.set([10 + rnd(), 3 + rnd(), 1, 0]);
    m.add(v);
  }
  assert.equal(m.rows, 64);
  assert.equal(m.seen, 5010);
  assert.equal(m.train(), true);
  assert.ok(m.calibration > 0.3 && m.calibration < 0.8, `calibration ${m.calibration}`);
  v.set([16, 3.5, 1, 0]); // far more bytes than ever
  assert.ok(m.score(v) > m.calibration + 0.05, `${m.score(v)} vs ${m.calibration}`);
  assert.equal(m.explain(v)[0].feature, 0);

  const back = new FlowModel(4, { reservoir: 64, trees: 40, seed: 9, minTrain: 16 });
  back.load(JSON.parse(JSON.stringify(m.toJSON())), true);
  assert.equal(back.rows, 64);
  assert.equal(back.seen, 5010);
  assert.ok(back.trained);
  assert.ok(Math.abs(back.score(v) - m.score(v)) < 0.02, 'same sample (rounded), same seed: about the same score');
  // Rows of the wrong width are skipped, never thrown on.
  const junk = new FlowModel(4, {});
  junk.load({ seen: 3, rows: [[1, 2], [1, 2, 3, 4], 'x' as unknown as number[]] }, false);
  assert.equal(junk.rows, 1);
});
