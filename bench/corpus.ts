/**
 * The benchmark corpus: ../shared/data/bench/public-mix.pcap replayed 8
 * times, each copy shifted to start 1 s after the previous one ends, built
 * once with ../shared/tools/pcapcat.py into bench/out/ (not committed).
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
export const SHARED = process.env.HARRIER_SHARED ?? resolve(REPO, '..', 'shared');

/** Path of the ×8 corpus, building it when missing; null when ../shared is absent. */
export function benchCorpus(copies = 8): string | null {
  const src = join(SHARED, 'data', 'bench', 'public-mix.pcap');
  const tool = join(SHARED, 'tools', 'pcapcat.py');
  if (!existsSync(src) || !existsSync(tool)) return null;
  const outDir = join(REPO, 'bench', 'out');
  mkdirSync(outDir, { recursive: true });
  const out = join(outDir, `public-mix-x${copies}.pcap`);
  if (!existsSync(out) || statSync(out).size < statSync(src).size * copies * 0.9) {
    execFileSync('python3', [tool, out, '1', ...Array(copies).fill(src)], { stdio: 'inherit' });
  }
  return out;
}

/** Peak resident set size of this process so far, in MB (Linux VmHWM). */
export function peakRssMb(): number {
  try {
    const status = execFileSync('cat', [`/proc/${process.pid}/status`], { encoding: 'utf8' });
    const m = /VmHWM:\s+(\d+) kB/.exec(status);
    if (m) return Number(m[1]) / 1024;
  } catch {
    /* not Linux: fall through */
  }
  return process.memoryUsage().rss / 1e6;
}
