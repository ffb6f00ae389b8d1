/**
 * Rule reload without restart (issue 5, "Operations").
 *
 * A SignatureReloader owns the running SignatureEngine of one pipeline and
 * the inputs it was built from: the rule paths, the config file (its `vars:`)
 * and the classification/reference/threshold files found beside the rules.
 * The Suricata-language thresholds, classifications and datasets come with
 * the rules, so one reload renews all of them.
 * `reload()` re-reads all of them, builds a new engine beside the running one
 * and swaps it in (`Pipeline.replaceDetector`) only when the build succeeded
 * and loaded at least one rule; otherwise the running engine stays and the
 * outcome is one line. These are the steps Suricata documents for its rule
 * reload (new config for the variables, new rules, new engine, swap, free the
 * old one).
 *
 * When it runs: JavaScript runs one thing at a time, so a reload called from
 * a signal handler or a timer runs between two packets — between two chunks
 * of standard input on the main thread, between two drains of the frame ring
 * in a worker thread. Building is synchronous CPU work (parse + compile; the
 * time is in the result line; ET Open 2024-04: 3.3 s of CPU, the swap
 * itself 1–10 ms): packets are not processed meanwhile. They wait
 * in the pipe (single thread: a capture tool writing into a full pipe blocks,
 * and the kernel may drop what its capture buffer cannot hold) or in each
 * worker's frame ring (16 MiB by default; the capture thread keeps reading).
 * A build cannot move to another thread: the compiled engine holds closures,
 * which do not cross threads. Both engines are in memory during the build.
 *
 * Flow state at the swap. Suricata's documentation says nothing about it; its
 * code (detect.c, DetectRunSetup) frees a flow's flow variables (flowbits,
 * flowints) and resets transaction inspection the first time a flow is seen
 * by a new engine. Harrier decides, per piece of state:
 *  - flowbits and flowints are kept by name: each flow's ids are mapped to
 *    the new engine's ids. Names the new set never mentions are dropped (no
 *    rule could read them). Unlike Suricata, on purpose: an update that keeps
 *    a set/isset pair must not lose a detection that is half-way through.
 *  - inspection progress is reset: packet-prefilter hits waiting for their
 *    stream chunk and the "already alerted on the packet" marks are numbers
 *    of the old engine's rules; they are dropped, and the next stream chunk
 *    of each direction is scanned whole, so rules re-inspect from the current
 *    point. The kept stream tail (bytes, not rules) stays, so a pattern that
 *    straddles the swap point is still found.
 *  - `pass` (a pass rule matched: the flow is not inspected any more) and the
 *    end-of-handshake mark stay: they describe the flow, not the rule set.
 *  - thresholds, detection_filter counts, xbits and dataset contents start
 *    afresh with the new engine (they are tables of the engine; datasets are
 *    re-read from their files).
 *  - counters carry on: the totals of retired engines are added to the
 *    running engine's, so stats stay monotonic; `rules_loaded` and the other
 *    gauges are the running engine's.
 * The migration visits every flow of the table once (O(active flows)) inside
 * the swap; its time is in the result line.
 */
import type { Flow } from '../../flow/flow.js';
import type { Detector } from '../detector.js';
import type { AlertPath } from '../alert.js';
import type { Counters } from '../../events/stats.js';
import type { HarrierConfig } from '../../sensor/config.js';
import { eveTimestamp } from '../../events/format.js';
import { loadSignatureEngine, loadSummaryLine, type LoadedSignatures } from './load.js';
import type { SignatureEngine, SignatureEngineOptions } from './engine.js';
import { peekFlowState, type SigFlowState } from './state.js';

/** One entry of Suricata's EVE `stats.detect.engines` array (same names). */
export interface DetectEngineInfo {
  /** Engine id (Suricata: the tenant; Harrier: 0, or the worker index with --workers). */
  id: number;
  /** Wall-clock time the running engine was built (first load or last successful reload), EVE timestamp format. */
  last_reload: string;
  rules_loaded: number;
  rules_failed: number;
}

/** What the reloader needs from the pipeline it serves. */
export interface ReloadHost {
  readonly alerts: AlertPath;
  addDetector(d: Detector): void;
  /** Swap `old` for `next` at the same position of the detector list; false when `old` is not there. */
  replaceDetector(old: Detector, next: Detector): boolean;
  readonly flows: { forEachFlow(fn: (flow: Flow) => void): void };
}

export interface ReloadResult {
  ok: boolean;
  /** The one line to log (success or failure, with the reason). */
  line: string;
  /** Rules of the engine running after the call (the new one, or the kept one). */
  rulesLoaded: number;
  rulesFailed: number;
  /** Wall time of building (parse + compile) and of the swap (flow migration included), ms. */
  buildMs: number;
  swapMs: number;
  /** Flows whose detection state was migrated. */
  flows: number;
}

export interface SignatureReloaderOptions {
  /** Engine id for `detect.engines[].id` (default 0). */
  id?: number;
  /** Engine options, used for every build. */
  engine?: SignatureEngineOptions;
  /**
   * Re-reads the configuration (for its `vars:`) at each reload; default: the
   * configuration given at construction is used again.
   */
  reloadConfig?: () => Pick<HarrierConfig, 'vars'>;
  /** Wall clock in ms (tests). */
  now?: () => number;
}

/** Counters that are levels of the running engine, not totals: never carried over from a retired engine. */
const GAUGES = new Set([
  'detect.engines',
  'harrier.detect.rules_loaded',
  'harrier.detect.rules_failed',
  'harrier.detect.threshold_entries',
  'harrier.detect.xbits_hosts',
]);

export class SignatureReloader implements Detector {
  readonly name = 'signature-reload';
  private current: LoadedSignatures;
  private builtAt: number;
  /** Totals of the engines swapped out. */
  private retired: Counters = {};
  private cReloads = 0;
  private cFailures = 0;
  private readonly clock: () => number;

  /**
   * Loads the rules (throws as loadSignatureEngine does) and adds the engine
   * and this reloader (for its counters) to the host pipeline.
   */
  constructor(
    private readonly paths: string[],
    private readonly cfg: Pick<HarrierConfig, 'vars'>,
    private readonly host: ReloadHost,
    private readonly opts: SignatureReloaderOptions = {},
  ) {
    this.clock = opts.now ?? Date.now;
    this.current = loadSignatureEngine(paths, cfg, host.alerts, opts.engine);
    this.builtAt = this.clock();
    host.addDetector(this.current.engine);
    host.addDetector(this);
  }

  /** The running engine. */
  get engine(): SignatureEngine {
    return this.current.engine;
  }

  /** What the running engine was built from (for the load summary line). */
  get loaded(): LoadedSignatures {
    return this.current;
  }

  /** Re-read the rules and swap the new engine in if it loads at least one rule. Never throws. */
  reload(): ReloadResult {
    const t0 = performance.now();
    let next: LoadedSignatures;
    try {
      const cfg = this.opts.reloadConfig ? this.opts.reloadConfig() : this.cfg;
      next = loadSignatureEngine(this.paths, cfg, this.host.alerts, this.opts.engine);
    } catch (err) {
      return this.failed(t0, err instanceof Error ? err.message : String(err));
    }
    const buildMs = performance.now() - t0;
    if (next.engine.rules.length === 0) {
      const why = next.failures.length > 0 ? `${next.failures.length} failed, e.g. ${next.failures[0]!.file}:${next.failures[0]!.line}: ${next.failures[0]!.reason}` : 'no rules in the files';
      return this.failed(t0, `the new set loads no rule (${why})`);
    }
    const t1 = performance.now();
    const old = this.current.engine;
    if (!this.host.replaceDetector(old, next.engine)) return this.failed(t0, 'the running engine is not in the pipeline');
    // Same turn of the event loop as the swap: no packet sees the new engine before its flows are migrated.
    const flows = migrateFlows(this.host.flows, old, next.engine);
    this.retired = retire(this.retired, old.counters());
    this.current = next;
    this.builtAt = this.clock();
    this.cReloads++;
    const swapMs = performance.now() - t1;
    const line = `rules: reloaded: ${loadSummaryLine(next).slice('rules: '.length)}; swapped in ${swapMs.toFixed(1)} ms (${flows} flows)`;
    return { ok: true, line, rulesLoaded: next.engine.rules.length, rulesFailed: next.failures.length, buildMs, swapMs, flows };
  }

  private failed(t0: number, reason: string): ReloadResult {
    this.cFailures++;
    const n = this.current.engine.rules.length;
    return {
      ok: false,
      line: `rules: reload failed, keeping the running set (${n} rules): ${reason}`,
      rulesLoaded: n,
      rulesFailed: this.current.failures.length,
      buildMs: performance.now() - t0,
      swapMs: 0,
      flows: 0,
    };
  }

  /** Suricata's `detect.engines` entry of the running engine. */
  info(): DetectEngineInfo {
    const t = this.builtAt;
    return {
      id: this.opts.id ?? 0,
      last_reload: eveTimestamp(Math.floor(t / 1000), (t % 1000) * 1e6),
      rules_loaded: this.current.engine.rules.length,
      rules_failed: this.current.failures.length,
    };
  }

  /** Retired engines' totals plus the reload counters (the running engine reports its own). */
  counters(): Counters {
    return { ...this.retired, 'harrier.detect.reloads': this.cReloads, 'harrier.detect.reload_failures': this.cFailures };
  }
}

function retire(acc: Counters, c: Counters): Counters {
  const out: Counters = { ...acc };
  for (const k in c) if (!GAUGES.has(k)) out[k] = (out[k] ?? 0) + c[k]!;
  return out;
}

/** Old engine id → new engine id by name (-1: the new set never names it). */
function idMap(oldNames: readonly string[], newNames: readonly string[]): Int32Array {
  const byName = new Map<string, number>();
  newNames.forEach((n, i) => byName.set(n, i));
  const m = new Int32Array(oldNames.length).fill(-1);
  oldNames.forEach((n, i) => (m[i] = byName.get(n) ?? -1));
  return m;
}

/** The map keeps every id as it is (then flows need no rewrite of that kind of state). */
function isIdentity(m: Int32Array): boolean {
  for (let i = 0; i < m.length; i++) if (m[i] !== i) return false;
  return true;
}

/**
 * Rewrite every flow's signature state from `old`'s numbering to `next`'s
 * (see the header); returns how many flows had state. Measured (2 cores at
 * load average ~16, so high): 100k flows each holding a flowbit, renumbered,
 * 40–50 ms warm, 200–300 ms on a first reload (cold code). Bits are rewritten
 * in place; a flow with flowints gets a new Map only when their ids change.
 */
export function migrateFlows(flows: ReloadHost['flows'], old: SignatureEngine, next: SignatureEngine): number {
  const bits = idMap(old.compiled.flowbitNames, next.compiled.flowbitNames);
  const ints = idMap(old.compiled.flowintNames, next.compiled.flowintNames);
  const sameBits = isIdentity(bits);
  const sameInts = isIdentity(ints);
  let n = 0;
  flows.forEachFlow((f) => {
    const fs = peekFlowState(f);
    if (fs === null) return;
    n++;
    migrateFlowState(fs, sameBits ? null : bits, sameInts ? null : ints);
  });
  return n;
}

/** One flow's state (see the header); a null map means its ids stay as they are. */
export function migrateFlowState(fs: SigFlowState, bits: Int32Array | null, ints: Int32Array | null): void {
  const b = fs.bits;
  if (bits !== null && b.length > 0) {
    // In place: the list is short (a few bits per flow), so `includes` beats a set.
    let k = 0;
    for (let i = 0; i < b.length; i++) {
      const id = b[i]!;
      const to = id < bits.length ? bits[id]! : -1;
      if (to < 0) continue;
      let dup = false;
      for (let j = 0; j < k; j++) if (b[j] === to) dup = true;
      if (!dup) b[k++] = to;
    }
    b.length = k;
  }
  if (ints !== null && fs.ints !== null) {
    const m = new Map<number, number>();
    for (const [id, v] of fs.ints) {
      const to = id < ints.length ? ints[id]! : -1;
      if (to >= 0) m.set(to, v);
    }
    fs.ints = m.size > 0 ? m : null;
  }
  // Inspection progress is in the old engine's rule numbers: drop it; -1 makes the next chunk a full scan.
  fs.pending[0].length = 0;
  fs.pending[1].length = 0;
  fs.pendingPkts[0] = -1;
  fs.pendingPkts[1] = -1;
  fs.pktFired[0].length = 0;
  fs.pktFired[1].length = 0;
}
