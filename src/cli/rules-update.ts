/**
 * `harrier rules update [--config FILE] [--url URL…] [--dir DIR]`: download
 * the configured rule tarballs, check the new set loads, swap it in (see
 * src/detect/rules/update.ts). Prints one line per source and one summary
 * line; on failure one error line (HARRIER_ERR_RULES_UPDATE, exit 1) and the
 * current set stays in place.
 */
import type { Command } from 'commander';
import { loadConfig } from '../sensor/config.js';
import { updateRules } from '../detect/rules/update.js';

export interface RulesUpdateOptions {
  config?: string;
  url?: string[];
  dir?: string;
  quiet?: boolean;
}

export async function rulesUpdateCommand(opts: RulesUpdateOptions, out: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<void> {
  const cfg = loadConfig(opts.config);
  for (const w of cfg.warnings) process.stderr.write(`harrier: warning: ${w}\n`);
  const u = cfg.rulesUpdate;
  const sources = opts.url && opts.url.length > 0 ? opts.url : u.sources;
  const dir = opts.dir ?? u.dir;
  const say = opts.quiet ? (): void => undefined : out;
  // Test hook: a short first retry delay keeps the retry tests fast.
  const backoffMs = Number(process.env.HARRIER_RULES_UPDATE_BACKOFF_MS ?? 1000);
  const r = await updateRules({
    sources,
    dir,
    maxDownloadBytes: u.maxDownloadBytes,
    maxExtractedBytes: u.maxExtractedBytes,
    retries: u.retries,
    backoffMs: Number.isFinite(backoffMs) && backoffMs >= 0 ? backoffMs : 1000,
    vars: cfg.vars,
    log: say,
  });
  if (!r.changed) {
    say(`rules: up to date (${r.rules.loaded} rules in ${r.current}; no source changed)`);
    return;
  }
  say(
    `rules: updated ${r.current}: ${r.rules.loaded} rules loaded, ${r.rules.failed} failed; ` +
      `${r.diff.added} added, ${r.diff.removed} removed, ${r.diff.modified} modified`,
  );
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Adds `update` to the `rules` command group. */
export function registerRulesUpdate(rules: Command): void {
  rules
    .command('update')
    .description('download rule tarballs (default: ET Open for Suricata 7), check the new set loads, and swap it in atomically; the current set is kept on any failure')
    .option('--config <file>', 'configuration file (rules.sources, rules.dir, vars used to validate the set)')
    .option('--url <url>', 'rule source URL (.tar.gz or .rules); repeatable; replaces rules.sources', collect, [])
    .option('--dir <dir>', 'rules folder (default: rules.dir); the set in use is DIR/current')
    .option('--quiet', 'print nothing on success')
    .action(async (opts: RulesUpdateOptions) => {
      await rulesUpdateCommand(opts);
    });
}
