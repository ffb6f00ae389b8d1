/**
 * Runs planned suricata-verify tests through `harrier analyze` and evaluates
 * their checks. Each test is a child process with a time limit (SIGKILL on
 * expiry) and bounded stderr, so a test that hangs or crashes Harrier is a
 * FAIL with the reason, never a hang of the runner.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { evalFilter, evalStats, type Json } from './sv-check.js';
import type { Plan, RunPlan } from './sv-plan.js';

export type Status = 'PASS' | 'FAIL' | 'SKIP';

export interface TestResult {
  name: string;
  status: Status;
  /** One line: why it failed or was skipped ('' when passed). */
  reason: string;
  /** In scope and some evaluated filter is on `event_type: alert`. */
  onAlerts: boolean;
  ms: number;
}

export interface RunOptions {
  /** Path of bin/harrier.js. */
  harrier: string;
  timeoutMs: number;
  /** Largest EVE file read (bytes); bigger is a FAIL rather than a memory blow-up. */
  maxEveBytes?: number;
  /**
   * dist/src/cli/main.js to run in worker threads instead of one process per
   * test (see sv-worker.ts); unset: a child process per test.
   */
  mainModule?: string;
  /** Tests per worker before it is replaced (default 20). */
  recycleAfter?: number;
}

/** Runs one harrier command line with a time limit. */
export type Executor = (args: string[], timeoutMs: number) => Promise<Exec>;

export interface Exec {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stderr: string;
}

/**
 * One worker thread running harrier in-process (sv-worker.ts), replaced after
 * `recycleAfter` tests, on a time-out (terminated) and when it dies.
 */
export class WorkerSlot {
  private worker: Worker | null = null;
  private used = 0;
  private stderr = '';
  private nextId = 1;
  private pending: { id: number; done: (r: { code: number | null; crash?: string }) => void } | null = null;

  constructor(
    private readonly mainModule: string,
    private readonly recycleAfter = 20,
  ) {}

  private start(): Promise<void> {
    return new Promise((resolveStart, rejectStart) => {
      const w = new Worker(new URL('./sv-worker.js', import.meta.url), {
        workerData: { mainModule: this.mainModule },
        stdout: true,
        stderr: true,
        resourceLimits: { maxOldGenerationSizeMb: 1536 },
      });
      let started = false;
      w.stdout.resume();
      w.stderr.setEncoding('utf8');
      w.stderr.on('data', (d: string) => {
        if (this.stderr.length < 64 * 1024) this.stderr += d;
      });
      w.on('message', (m: { ready?: boolean; id?: number; code?: number }) => {
        if (m.ready) {
          started = true;
          resolveStart();
        } else if (this.pending && m.id === this.pending.id) this.pending.done({ code: m.code ?? 1 });
      });
      const gone = (why: string): void => {
        if (this.worker === w) this.worker = null;
        if (!started) rejectStart(new Error(why));
        else this.pending?.done({ code: null, crash: why });
      };
      w.on('error', (err) => gone(`harrier crashed: ${String(err.message).split('\n')[0]}`));
      w.on('exit', (code) => gone(`harrier's worker exited (${code})`));
      this.worker = w;
      this.used = 0;
    });
  }

  async stop(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
  }

  readonly run: Executor = async (args, timeoutMs) => {
    if (!this.worker || this.used >= this.recycleAfter) {
      await this.stop();
      await this.start();
    }
    const w = this.worker!;
    this.used++;
    this.stderr = '';
    const id = this.nextId++;
    const r = await new Promise<{ code: number | null; crash?: string; timedOut?: boolean }>((done) => {
      const timer = setTimeout(() => {
        this.pending = null;
        void this.stop();
        done({ code: null, timedOut: true });
      }, timeoutMs);
      this.pending = {
        id,
        done: (x) => {
          clearTimeout(timer);
          this.pending = null;
          done(x);
        },
      };
      w.postMessage({ id, args });
    });
    // stderr arrives on its own channel: give it a moment when it matters.
    if (r.code !== 0) await new Promise((res) => setTimeout(res, 50));
    return { code: r.code, signal: null, timedOut: r.timedOut ?? false, stderr: r.crash ? `${r.crash}\n${this.stderr}` : this.stderr };
  };
}

function execHarrier(bin: string, args: string[], timeoutMs: number): Promise<Exec> {
  return new Promise((resolveExec) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let timedOut = false;
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => {
      if (stderr.length < 64 * 1024) stderr += d;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolveExec({ code: null, signal: null, timedOut: false, stderr: `cannot start harrier: ${err.message}` });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolveExec({ code, signal, timedOut, stderr });
    });
  });
}

/** The line of stderr that says what went wrong (not a warning). */
export function errorLine(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  return (
    lines.find((l) => l.startsWith('harrier:') && !l.startsWith('harrier: warning:')) ??
    lines.find((l) => /^(\w*Error|RangeError|FATAL|#)\b/.test(l) || /^\w*Error:/.test(l)) ??
    lines[lines.length - 1] ??
    '(no message)'
  );
}

/** EVE lines → records; a line that is not JSON makes the whole output invalid. */
export function parseEve(text: string): { events: Json[]; error: string | null } {
  const events: Json[] = [];
  let n = 0;
  for (const line of text.split('\n')) {
    n++;
    if (line.trim() === '') continue;
    try {
      events.push(JSON.parse(line) as Json);
    } catch {
      return { events, error: `EVE line ${n} is not JSON` };
    }
  }
  return { events, error: null };
}

/**
 * Evaluate a plan's checks on EVE records, with suricata-verify's rule for the
 * verdict: any failed check fails the test; a test whose checks were all
 * skipped is skipped; otherwise (including a test with no checks) it passes.
 */
export function judge(plan: RunPlan, events: readonly Json[]): { status: Status; reason: string; onAlerts: boolean } {
  const kept = plan.eveTypes
    ? events.filter((e) => typeof e === 'object' && e !== null && !Array.isArray(e) && plan.eveTypes!.has(String(e.event_type)))
    : events;
  let success = 0;
  let skipped = 0;
  const failures: string[] = [];
  let skipReason = '';
  plan.checks.forEach((c, i) => {
    if (c.skip) {
      skipped++;
      skipReason ||= c.skip;
      return;
    }
    const r = c.kind === 'filter' ? evalFilter(c.spec, kept) : evalStats(c.spec, kept);
    if (r.ok) success++;
    else failures.push(`check #${i + 1}: ${r.reason}`);
  });
  if (failures.length > 0) {
    // One line: the first failing check (shortened), how many others failed.
    const first = failures[0].length > 240 ? `${failures[0].slice(0, 240)}…` : failures[0];
    const more = failures.length > 1 ? ` (+${failures.length - 1} more failing checks)` : '';
    const note = skipped > 0 ? ` (${skipped} of ${plan.checks.length} checks skipped: ${skipReason})` : '';
    return { status: 'FAIL', reason: first + more + note, onAlerts: plan.onAlerts };
  }
  if (skipped > 0 && success === 0) return { status: 'SKIP', reason: `every check skipped: ${skipReason}`, onAlerts: false };
  const note = skipped > 0 ? `(${skipped} of ${plan.checks.length} checks skipped: ${skipReason})` : '';
  return { status: 'PASS', reason: note, onAlerts: plan.onAlerts };
}

export async function runPlan(plan: Plan, opts: RunOptions, exec?: Executor): Promise<TestResult> {
  const t0 = Date.now();
  if (plan.kind === 'skip') return { name: plan.name, status: 'SKIP', reason: plan.reason, onAlerts: false, ms: 0 };
  const work = mkdtempSync(join(tmpdir(), 'harrier-sv-'));
  const done = (status: Status, reason: string, onAlerts = plan.onAlerts): TestResult => ({ name: plan.name, status, reason, onAlerts, ms: Date.now() - t0 });
  try {
    const cfgPath = join(work, 'harrier.yaml');
    const evePath = join(work, 'eve.json');
    writeFileSync(cfgPath, plan.config);
    const args = ['analyze', plan.pcap, '--eve', evePath, '--config', cfgPath, '--quiet', ...plan.extraArgs];
    if (plan.rules) args.push('--rules', plan.rules);
    const r = await (exec ?? ((a: string[], t: number) => execHarrier(opts.harrier, a, t)))(args, opts.timeoutMs);
    if (r.timedOut) return done('FAIL', `harrier did not finish within ${opts.timeoutMs / 1000} s (killed)`);
    if (r.signal) return done('FAIL', `harrier died of ${r.signal}: ${errorLine(r.stderr)}`);
    if (r.code !== 0) return done('FAIL', `harrier exited ${String(r.code)}: ${errorLine(r.stderr)}`);
    let text = '';
    try {
      const size = statSync(evePath).size;
      if (size > (opts.maxEveBytes ?? 256 * 1024 * 1024)) return done('FAIL', `EVE output too large (${size} bytes)`);
      text = readFileSync(evePath, 'utf8');
    } catch {
      text = '';
    }
    const eve = parseEve(text);
    if (eve.error) return done('FAIL', eve.error);
    const j = judge(plan, eve.events);
    return done(j.status, j.reason, j.onAlerts);
  } catch (err) {
    return done('FAIL', `runner error: ${String((err as Error).message).split('\n')[0]}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Runs plans with at most `jobs` at once; `onResult` sees each as it ends; results come back in plan order. */
export async function runAll(plans: readonly Plan[], jobs: number, opts: RunOptions, onResult?: (r: TestResult) => void): Promise<TestResult[]> {
  const results: TestResult[] = new Array<TestResult>(plans.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    const slot = opts.mainModule ? new WorkerSlot(opts.mainModule, opts.recycleAfter) : null;
    try {
      while (next < plans.length) {
        const i = next++;
        try {
          results[i] = await runPlan(plans[i], opts, slot?.run);
        } catch (err) {
          // A worker that cannot even start: the test fails with why, the next gets a fresh one.
          results[i] = { name: plans[i].name, status: 'FAIL', reason: `runner error: ${String((err as Error).message).split('\n')[0]}`, onAlerts: false, ms: 0 };
        }
        onResult?.(results[i]);
      }
    } finally {
      await slot?.stop();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, jobs) }, worker));
  return results;
}

export interface Summary {
  passed: number;
  failed: number;
  skipped: number;
  alertsPassed: number;
  alertsTotal: number;
}

export function summarise(results: readonly TestResult[]): Summary {
  const s: Summary = { passed: 0, failed: 0, skipped: 0, alertsPassed: 0, alertsTotal: 0 };
  for (const r of results) {
    if (r.status === 'PASS') s.passed++;
    else if (r.status === 'FAIL') s.failed++;
    else s.skipped++;
    if (r.status !== 'SKIP' && r.onAlerts) {
      s.alertsTotal++;
      if (r.status === 'PASS') s.alertsPassed++;
    }
  }
  return s;
}

/** Skip reasons grouped (numbers and paths folded so that like reasons group), most frequent first. */
export function skipGroups(results: readonly TestResult[]): [string, number][] {
  const m = new Map<string, number>();
  for (const r of results) {
    if (r.status !== 'SKIP') continue;
    const key = r.reason.replace(/>= [0-9.]+/, '>= N').replace(/ < [0-9.]+/, ' < N').replace(/pcap \S+ not available/, 'pcap not available');
    m.set(key, (m.get(key) ?? 0) + 1);
  }
  return [...m.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

/** The generated section of docs/conformance.md (between the markers). */
export function docSection(results: readonly TestResult[], when: string): string {
  const s = summarise(results);
  const pct = s.alertsTotal ? ((100 * s.alertsPassed) / s.alertsTotal).toFixed(1) : '0.0';
  const lines = [
    `Last run: ${when}. ${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped; in-scope tests whose checks are on alerts: ${s.alertsPassed}/${s.alertsTotal} passed (${pct}%).`,
    '',
  ];
  const fails = results.filter((r) => r.status === 'FAIL');
  if (fails.length === 0) lines.push('No failures.');
  else {
    lines.push('| test | on alerts | reason |', '| --- | --- | --- |');
    for (const r of fails) lines.push(`| ${r.name} | ${r.onAlerts ? 'yes' : 'no'} | ${r.reason.replace(/\|/g, '\\|').slice(0, 300)} |`);
  }
  lines.push('', 'Skip reasons (count):', '');
  for (const [reason, n] of skipGroups(results)) lines.push(`- ${n} × ${reason.replace(/\|/g, '\\|')}`);
  return lines.join('\n');
}

export const DOC_BEGIN = '<!-- conformance:suricata-verify:begin (generated by `node scripts/conformance.mjs --write-doc`; edits here are overwritten) -->';
export const DOC_END = '<!-- conformance:suricata-verify:end -->';

/** Replace the generated section of a document (appending the markers the first time). */
export function replaceSection(doc: string, section: string): string {
  const a = doc.indexOf(DOC_BEGIN);
  const b = doc.indexOf(DOC_END);
  if (a >= 0 && b > a) return doc.slice(0, a + DOC_BEGIN.length) + '\n' + section + '\n' + doc.slice(b);
  return doc.replace(/\n*$/, '\n\n') + DOC_BEGIN + '\n' + section + '\n' + DOC_END + '\n';
}
