/** Issue 7 on the lab's demo capture: C2 and mining contacts raise intel alerts naming the pod (see lab-intel-check.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkCapture } from './lab-intel-check.js';

test('lab demo capture: every ground-truth C2 and mining contact raises an intel alert naming the pod', () => {
  const stages = checkCapture('demo', 'demo.pcap');
  if (stages.length > 0) assert.ok(stages.includes('command-and-control') && stages.includes('mining'), stages.join());
});
