/**
 * `harrier rules check PATH… [--config FILE]`: load rule files/folders the
 * way the sensor does and list every rule that cannot be loaded, one line
 * each (`FILE:LINE: sid N: REASON`), then `loaded N, failed M`.
 *
 * Exit status: 0 when at least one rule loaded (failures are listed, not
 * fatal — Suricata also starts with the rules it could load); 1 when nothing
 * loaded or a path is unreadable; 2 for bad usage or configuration.
 */
import type { Command } from 'commander';
import { HarrierError } from '../errors.js';
import { loadRules } from '../detect/rules/index.js';
import type { LoadRulesOptions } from '../detect/rules/index.js';
import { loadConfig } from '../sensor/config.js';
import { compileRuleSet } from '../detect/engine/compile.js';

export interface RulesCheckOptions {
  config?: string;
  classificationFile?: string;
  referenceFile?: string;
  thresholdFile?: string;
  /** Also print warnings (duplicate sids, unknown reference systems, bad config lines). */
  warnings?: boolean;
}

export function rulesCheckCommand(paths: string[], opts: RulesCheckOptions, out: (s: string) => void = (s) => process.stdout.write(s)): void {
  const cfg = loadConfig(opts.config);
  const lo: LoadRulesOptions = { vars: cfg.vars };
  if (opts.classificationFile !== undefined) lo.classificationFile = opts.classificationFile;
  if (opts.referenceFile !== undefined) lo.referenceFile = opts.referenceFile;
  if (opts.thresholdFile !== undefined) lo.thresholdFile = opts.thresholdFile;
  const rs = loadRules(paths, lo);
  // A rule that parses can still fail in the engine (a keyword combination
  // the inspection code refuses); the sensor would drop it, so `check` compiles
  // too and lists those failures with the parse failures, in file order.
  const compiled = compileRuleSet(rs);
  const errors = [...rs.errors, ...compiled.errors].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line));
  let text = '';
  for (const e of errors) text += `${e.file}:${e.line}: sid ${e.sid ?? '?'}: ${oneLine(e.reason)}\n`;
  if (opts.warnings) for (const w of rs.warnings) text += `warning: ${oneLine(w)}\n`;
  const loaded = compiled.rules.length;
  text += `loaded ${loaded}, failed ${errors.length}\n`;
  out(text);
  if (loaded === 0) {
    throw new HarrierError('HARRIER_ERR_RULE_PARSE', rs.files.length === 0 ? 'no rule files found' : 'no rule could be loaded');
  }
}

function oneLine(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\r\n\x00-\x1f]+/g, ' ').slice(0, 500);
}

/**
 * Adds `rules check` under the `rules` command (created here if no other
 * module made it yet) and returns the `rules` command so that other
 * subcommands (`rules update`) can be attached to the same parent.
 */
export function registerRulesCheck(program: Command): Command {
  const rules = program.commands.find((c) => c.name() === 'rules') ?? program.command('rules').description('rule-set commands');
  rules
    .command('check')
    .description('load rule files/folders and list every rule that cannot be loaded (FILE:LINE: sid N: REASON), then "loaded N, failed M"; exit 1 only when nothing loads')
    .argument('<path...>', 'rule files, or folders of *.rules')
    .option('--config <file>', 'configuration file (its vars: address-groups/port-groups)')
    .option('--classification-file <file>', 'classification.config (default: found beside the rule files)')
    .option('--reference-file <file>', 'reference.config (default: found beside the rule files)')
    .option('--threshold-file <file>', 'threshold.config (default: found beside the rule files)')
    .option('--warnings', 'also print warnings (duplicate sids, …)')
    .action((paths: string[], opts: RulesCheckOptions) => {
      rulesCheckCommand(paths, opts);
    });
  return rules;
}
