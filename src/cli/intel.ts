/**
 * `harrier intel update` and `harrier intel export` (docs/reference/intel.md).
 *
 *   harrier intel update [--config FILE] [--out FILE]
 *   harrier intel export --format calico|cilium|rpz|dnsmasq|coredns [--out DIR|-]
 *                        [--config FILE | --intel PATH…] [--category LIST] [--max-cidrs N] [--zone NAME]
 *
 * Per-feed outcomes and summaries are single lines on stderr, so `--out -`
 * keeps standard output clean for the exported text.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { HarrierError } from '../errors.js';
import { loadConfig } from '../sensor/config.js';
import { resolveIntelPaths } from '../detect/intel/config.js';
import { updateIntel } from '../detect/intel/update.js';
import { openIntel } from '../detect/intel/load.js';
import { EXPORT_FORMATS, renderExport, type ExportFormat } from '../detect/intel/export/index.js';

const err = (line: string): void => {
  process.stderr.write(`harrier: ${line}\n`);
};

export interface IntelUpdateCliOptions {
  config?: string;
  out?: string;
}

export async function intelUpdateCommand(opts: IntelUpdateCliOptions): Promise<void> {
  const cfg = loadConfig(opts.config);
  for (const w of cfg.warnings) err(`warning: ${w}`);
  const intel = resolveIntelPaths(cfg.intel, opts.config);
  const r = await updateIntel(intel, { out: opts.out, log: err });
  const failed = r.outcomes.filter((o) => o.status === 'failed' || o.status === 'kept').length;
  if (failed > 0) err(`warning: intel update: ${failed} feed${failed === 1 ? '' : 's'} not refreshed (see above)`);
}

export interface IntelExportCliOptions {
  format: string;
  out?: string;
  config?: string;
  intel?: string[];
  category?: string;
  maxCidrs?: string;
  zone?: string;
}

export function intelExportCommand(opts: IntelExportCliOptions): void {
  if (!(EXPORT_FORMATS as readonly string[]).includes(opts.format)) {
    throw new HarrierError('HARRIER_ERR_USAGE', `intel export: --format must be one of ${EXPORT_FORMATS.join(', ')}`);
  }
  const cfg = loadConfig(opts.config);
  for (const w of cfg.warnings) err(`warning: ${w}`);
  const intel = resolveIntelPaths(cfg.intel, opts.config);
  let paths = opts.intel ?? [];
  if (paths.length === 0 && intel.store !== null) paths = [intel.store];
  const localFeeds = paths.length === 0 ? intel.feeds.filter((f) => f.path !== null) : [];
  if (paths.length === 0 && localFeeds.length === 0) {
    throw new HarrierError('HARRIER_ERR_USAGE', 'intel export: nothing to export (give --intel PATH…, or a --config with intel.store or local intel.feeds)');
  }
  const opened = openIntel(paths, localFeeds);
  let maxCidrs: number | undefined;
  if (opts.maxCidrs !== undefined) {
    maxCidrs = Number(opts.maxCidrs);
    if (!Number.isInteger(maxCidrs) || maxCidrs < 1) throw new HarrierError('HARRIER_ERR_USAGE', `intel export: --max-cidrs must be a positive integer, got ${opts.maxCidrs}`);
  }
  const res = renderExport(opts.format as ExportFormat, opened.stores, {
    categories: opts.category ? opts.category.split(',').map((c) => c.trim()).filter((c) => c !== '') : null,
    ...(maxCidrs !== undefined ? { maxCidrs } : {}),
    ...(opts.zone ? { zone: opts.zone } : {}),
  });
  const out = opts.out ?? '-';
  if (out === '-') {
    for (const f of res.files) process.stdout.write(f.text);
  } else {
    try {
      mkdirSync(out, { recursive: true });
      for (const f of res.files) writeFileSync(join(out, f.name), f.text);
    } catch (e) {
      throw new HarrierError('HARRIER_ERR_OUTPUT', `intel export: cannot write into ${out}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
  }
  err(res.summary + (out === '-' ? '' : ` → ${res.files.map((f) => join(out, f.name)).join(', ')}`));
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Adds `intel update` and `intel export` to the program. */
export function registerIntelCommands(program: Command): void {
  const intel = program.command('intel').description('threat intelligence: download and compile feeds, export block lists');
  intel
    .command('update')
    .description('download the configured feeds (keeping each last good copy), compile them and swap the store in atomically')
    .option('--config <file>', 'configuration file with an intel: block')
    .option('--out <file>', 'compiled store to write (default: intel.store of the config)')
    .action(async (opts: IntelUpdateCliOptions) => {
      await intelUpdateCommand(opts);
    });
  intel
    .command('export')
    .description('render the malicious IP set as Calico/Cilium egress policy, or the domain set as an RPZ zone, dnsmasq list or CoreDNS hosts file')
    .addOption(new Option('--format <format>', 'output format').choices([...EXPORT_FORMATS]).makeOptionMandatory())
    .option('--out <dir>', 'folder to write into, or - for standard output', '-')
    .option('--config <file>', 'configuration file (its intel.store, or its local feeds)')
    .option('--intel <path...>', 'feed files, folders of feeds, or compiled stores', collect, [])
    .option('--category <list>', 'only entries of these categories (comma-separated, e.g. c2,mining)')
    .option('--max-cidrs <n>', 'CIDRs per Kubernetes object (default 10000)')
    .option('--zone <name>', 'RPZ zone origin (default rpz.harrier)')
    .action((opts: IntelExportCliOptions) => {
      intelExportCommand(opts);
    });
}
