/**
 * The `harrier` command line. Users and outside checks script against it, so
 * its commands, options and exit codes are a contract (see README):
 *   0  success
 *   1  an error while running (unreadable input, bad capture, output failure)
 *   2  bad usage or configuration
 * Errors are one line on stderr, `harrier: <message>`, never a stack trace.
 */
import { Command, CommanderError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { HarrierError } from '../errors.js';
import { analyzeCommand } from './analyze.js';
import { registerIntelCommands } from './intel.js';
import { registerRulesCheck } from './rules.js';
import { registerRulesUpdate } from './rules-update.js';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('harrier')
    .description('Network intrusion detection for Kubernetes')
    .version(version(), '-V, --version')
    .exitOverride()
    .configureOutput({
      writeErr: (s) => process.stderr.write(s.startsWith('error:') ? `harrier: ${s.slice('error: '.length)}` : s),
    })
    .showSuggestionAfterError(true);

  program
    .command('analyze')
    .description('analyse capture files (pcap or pcapng; `-` reads standard input) and write EVE JSON')
    .argument('<capture...>', 'capture files, or - for standard input (e.g. tcpdump -w - | harrier analyze -)')
    .option('--eve <file>', 'write EVE JSON lines to FILE (- for standard output)')
    .option('--config <file>', 'configuration file (YAML; accepts Suricata vars/flow-timeouts blocks)')
    .option('--stats <file>', 'write every counter (Suricata-named and Harrier-only) as one JSON object to FILE')
    .option('--k8s <path...>', 'Kubernetes snapshots (kubectl get -o json List files, folders, or folders of timestamped snapshots) naming the workloads on every record', collect, [])
    .option('--intel <path...>', 'threat-intel feed files, folders of feeds, or compiled stores (default: the config\'s intel.store)', collect, [])
    .option('--kubeconfig [file]', 'live Kubernetes identity: list/watch the API server of this kubeconfig (alone: KUBECONFIG, ~/.kube/config or the in-cluster service account)')
    .option('--rules <path...>', 'rule files or folders (Suricata rule language; variables from the config\'s vars:)', collect, [])
    .option('--pcap-dir <dir>', 'write a pcap of each alerted flow into DIR (default: pcap/ beside a file --eve)')
    .option('--no-pcap', 'write no alert pcaps')
    .option('--no-behaviour', 'run no behaviour detectors (scans, floods, brute force, tunnels, beacons, p2p, mining, exfiltration, baselines)')
    .option('--workers <n>', 'pipeline worker threads (flows spread by address pair; each loads rules, intel and identity itself)', (v: string) => Number(v))
    .option('--reload-poll <seconds>', 'reading standard input: check the --rules and --intel inputs (a rules folder\'s current link and state.json) and the config every N seconds and reload them when they changed (default 0: off; SIGHUP or SIGUSR2 always reload)', (v: string) => Number(v))
    .addOption(new Option('--quiet', 'print no summary'))
    .action(async (captures: string[], opts: { eve?: string; config?: string; stats?: string; quiet?: boolean; k8s?: string[]; intel?: string[]; kubeconfig?: string | boolean; rules?: string[]; pcapDir?: string; pcap?: boolean; behaviour?: boolean; workers?: number; reloadPoll?: number }) => {
      await analyzeCommand(captures, opts);
    });
  registerIntelCommands(program);

  // `harrier rules …` (find-or-create, shared with `rules update`): `check` is in src/cli/rules.ts.
  const rules = registerRulesCheck(program);
  // `rules update`: src/cli/rules-update.ts.
  registerRulesUpdate(rules);
  return program;
}

/** Runs the CLI; returns the exit status. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end through here with exit code 0.
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof HarrierError) {
      process.stderr.write(`harrier: ${err.message} [${err.code}]\n`);
      return err.code === 'HARRIER_ERR_USAGE' || err.code === 'HARRIER_ERR_CONFIG' ? 2 : 1;
    }
    const msg = err instanceof Error ? err.message : String(err);
    process.stderr.write(`harrier: internal error: ${msg.split('\n')[0]}\n`);
    if (process.env.HARRIER_DEBUG) process.stderr.write(`${(err as Error).stack ?? ''}\n`);
    return 1;
  }
}
