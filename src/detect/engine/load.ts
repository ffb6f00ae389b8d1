/**
 * Rules in, engine out: load rule files/folders with the configuration's
 * variables (Suricata's `vars:` block), compile them into a
 * SignatureEngine on a pipeline's alert path, and report what did not load
 * as one line (the full list is `harrier rules check`'s job).
 */
import { loadRules, type RuleLoadError, type RuleSet } from '../rules/index.js';
import type { HarrierConfig } from '../../sensor/config.js';
import type { AlertPath } from '../alert.js';
import { SignatureEngine, type SignatureEngineOptions } from './engine.js';

export interface LoadedSignatures {
  engine: SignatureEngine;
  ruleSet: RuleSet;
  /** Front-end failures and compile failures together. */
  failures: RuleLoadError[];
  /** Wall time of parsing and of compiling, ms. */
  parseMs: number;
  compileMs: number;
}

export function loadSignatureEngine(
  paths: string[],
  cfg: Pick<HarrierConfig, 'vars'>,
  alerts: AlertPath,
  opts: SignatureEngineOptions = {},
): LoadedSignatures {
  const t0 = performance.now();
  const ruleSet = loadRules(paths, { vars: cfg.vars });
  const t1 = performance.now();
  const engine = new SignatureEngine(ruleSet, alerts, opts);
  const t2 = performance.now();
  return { engine, ruleSet, failures: [...ruleSet.errors, ...engine.errors], parseMs: t1 - t0, compileMs: t2 - t1 };
}

/** The one stderr line `analyze --rules` prints. */
export function loadSummaryLine(l: LoadedSignatures): string {
  const loaded = l.engine.rules.length;
  return `rules: loaded ${loaded}, failed ${l.failures.length} (parse ${(l.parseMs / 1000).toFixed(1)} s, compile ${(l.compileMs / 1000).toFixed(1)} s; \`harrier rules check\` lists the failures)`;
}
