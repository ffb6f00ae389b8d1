/**
 * Decoder events checked against Suricata's choices where a stricter reading
 * of the RFC would raise one (suricata-verify tests that expect no alert).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Decoder } from '../../src/decode/decoder.js';
import { decodeFrame, eth, events, ipv4, tcp } from './build.js';

function withOptions(opts: number[]): string[] {
  const seg = tcp({ flags: 0x10, options: Buffer.from(opts) });
  return events(decodeFrame(new Decoder(), eth(0x0800, ipv4({ proto: 6, payload: seg }))).pkt);
}

test('TCP SACK option: empty (length 2) is accepted as in Suricata (tcp-empty-sack); 1-4 blocks accepted; other lengths invalid', () => {
  assert.deepEqual(withOptions([1, 1, 5, 2]), []);
  assert.deepEqual(withOptions([1, 1, 5, 10, 0, 0, 0, 1, 0, 0, 0, 2]), []);
  assert.deepEqual(withOptions([1, 1, 5, 6, 0, 0, 0, 1]), ['decoder.tcp.opt_invalid_len']);
  assert.deepEqual(withOptions([1, 1, 5, 3, 0, 0, 0, 0]), ['decoder.tcp.opt_invalid_len']);
});
