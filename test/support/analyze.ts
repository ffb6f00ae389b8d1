/**
 * A capture file through the whole pipeline, optionally with signature rules
 * (no variables): the EVE records it writes. The in-process equivalent of
 * `harrier analyze FILE --rules …`, for tests that compare records.
 */
import assert from 'node:assert/strict';
import { readCaptureFile } from '../../src/capture/reader.js';
import { SignatureEngine } from '../../src/detect/engine/engine.js';
import { parseRule } from '../../src/detect/rules/index.js';
import { EveCollector } from '../../src/output/eve-writer.js';
import { defaultConfig } from '../../src/sensor/config.js';
import { Pipeline } from '../../src/sensor/pipeline.js';

export function eveOfCapture(file: string, rules: readonly string[] = []): Record<string, unknown>[] {
  const eve = new EveCollector();
  const p = new Pipeline(defaultConfig(), { eve });
  if (rules.length > 0) {
    const rs = rules.map((t, i) => parseRule(t, { vars: { addressGroups: {}, portGroups: {} }, file: 't.rules', line: i + 1 }));
    const engine = new SignatureEngine({ rules: rs }, p.alerts);
    assert.deepEqual(engine.errors, []);
    p.addDetector(engine);
  }
  readCaptureFile(file, p);
  p.finish();
  return eve.out;
}
