/** Issue 7 on the lab's rule-pack capture: the stratum-v1 mining contact (see lab-intel-check.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkCapture } from './lab-intel-check.js';

test('lab rule-pack capture: the stratum-v1 mining contact raises an intel alert naming the pod', () => {
  const stages = checkCapture('rulepack', 'rulepack.pcap');
  if (stages.length > 0) assert.ok(stages.includes('mining'), stages.join());
});
