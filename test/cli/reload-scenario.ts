/**
 * The scenario of test/cli/rules-reload*.test.ts: rule reload of a running
 * `harrier analyze -` (a live capture on standard input), as an operator
 * does it: rules file A fires rule 1; the file is replaced by set B and
 * SIGHUP sent; later packets fire rule 2, not rule 1; a
 * broken file and SIGHUP keep B and log one failure line; with
 * `--reload-poll` a changed file is reloaded without a signal. The same with
 * `--workers 2`, where every worker answers for itself. The test owns the
 * pipe: it writes packets, waits for their alerts in the EVE file, and only
 * then signals, so each packet's engine is known.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/shared.js';
import { exited, killAll } from '../support/processes.js';
import { eth, ipv4, udp } from '../decode/build.js';

const BIN = join(REPO_ROOT, 'bin', 'harrier.js');
const RULE = (sid: number): string => `alert udp any any -> any any (msg:"rule ${sid}"; content:"hello"; sid:${sid};)`;

function pcapHeader(): Buffer {
  const h = Buffer.alloc(24);
  h.writeUInt32LE(0xa1b2c3d4, 0);
  h.writeUInt16LE(2, 4);
  h.writeUInt16LE(4, 6);
  h.writeUInt32LE(65535, 16);
  h.writeUInt32LE(1, 20);
  return h;
}

class Sensor {
  readonly dir = mkdtempSync(join(tmpdir(), 'harrier-reload-cli-'));
  readonly rules = join(this.dir, 'local.rules');
  readonly eve = join(this.dir, 'eve.json');
  readonly stats = join(this.dir, 'stats.json');
  readonly child: ChildProcess;
  stderr = '';
  private sec = 1_700_000_000;
  private flow = 0;

  constructor(extra: string[]) {
    writeFileSync(this.rules, RULE(1) + '\n');
    this.child = spawn(process.execPath, [BIN, 'analyze', '-', '--rules', this.rules, '--eve', this.eve, '--stats', this.stats, '--no-behaviour', '--no-pcap', '--quiet', ...extra], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.child.stdin!.write(pcapHeader());
  }

  /** `n` UDP datagrams saying hello, each in a new flow between new address pairs (so workers share them). */
  send(n: number): void {
    const recs: Buffer[] = [];
    for (let i = 0; i < n; i++) {
      const k = ++this.flow;
      const src = `10.0.${k >> 8}.${k & 255}`;
      const dst = `192.0.2.${(k * 7) & 255}`;
      const f = eth(0x0800, ipv4({ src, dst, proto: 17, payload: udp({ src, dst, sport: 30000 + k, dport: 5353, payload: Buffer.from(`hello ${k}`) }) }));
      const h = Buffer.alloc(16);
      h.writeUInt32LE(++this.sec, 0);
      h.writeUInt32LE(f.length, 8);
      h.writeUInt32LE(f.length, 12);
      recs.push(h, f);
    }
    this.child.stdin!.write(Buffer.concat(recs));
  }

  /** Signature ids of the alerts written so far. */
  sids(): number[] {
    if (!existsSync(this.eve)) return [];
    return readFileSync(this.eve, 'utf8')
      .split('\n')
      .filter((l) => l.includes('"event_type":"alert"'))
      .map((l) => (JSON.parse(l) as { alert: { signature_id: number } }).alert.signature_id);
  }

  count(sid: number): number {
    return this.sids().filter((s) => s === sid).length;
  }

  async until(what: string, ok: () => boolean, ms = 20_000): Promise<void> {
    const end = Date.now() + ms;
    while (!ok()) {
      if (this.child.exitCode !== null) throw new Error(`harrier exited (${this.child.exitCode}) waiting for ${what}: ${this.stderr}`);
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; alerts ${JSON.stringify(this.sids())}; stderr: ${this.stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  lines(re: RegExp): string[] {
    return this.stderr.split('\n').filter((l) => re.test(l));
  }

  async end(): Promise<number | null> {
    this.child.stdin!.end();
    await exited(this.child, 20_000);
    return this.child.exitCode;
  }

  done(): void {
    killAll([this.child]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Runs the whole scenario; `workers` is the --workers count (1: main thread). */
export async function scenario(extra: string[], workers: number): Promise<void> {
  const s = new Sensor([...extra, '--reload-poll', '1']);
  // Each expected line appears once per worker (worker N: …) or once.
  const reloaded = (n: number) => () => s.lines(/rules: reloaded: loaded 1, failed 0/).length >= n * workers;
  try {
    s.send(6);
    // Start-up (module loading, rules, workers) is the slow part on a loaded machine.
    await s.until('6 alerts of rule 1', () => s.count(1) === 6, 45_000);

    writeFileSync(s.rules, RULE(2) + '\n');
    s.child.kill('SIGHUP');
    await s.until('the reload', reloaded(1));
    s.send(6);
    await s.until('6 alerts of rule 2', () => s.count(2) === 6);
    assert.equal(s.count(1), 6, 'rule 1 fires no more');

    writeFileSync(s.rules, RULE(3).replace(/\)$/, '') + '\n'); // unterminated: loads no rule
    s.child.kill('SIGHUP');
    await s.until('the failure line', () => s.lines(/rules: reload failed, keeping the running set \(1 rules\)/).length >= workers);
    s.send(6);
    await s.until('12 alerts of rule 2', () => s.count(2) === 12);

    // --reload-poll 1: a changed file is picked up without a signal (once it stayed unchanged for a second).
    writeFileSync(s.rules, RULE(4) + '\n');
    await s.until('the polled reload', reloaded(2));
    s.send(6);
    await s.until('6 alerts of rule 4', () => s.count(4) === 6);

    assert.equal(await s.end(), 0, s.stderr);
    assert.deepEqual([s.count(1), s.count(2), s.count(3), s.count(4)], [6, 12, 0, 6]);
    const failures = s.lines(/reload failed/);
    assert.equal(failures.length, workers, s.stderr);
    if (workers > 1) {
      for (let w = 0; w < workers; w++) {
        assert.equal(s.lines(new RegExp(`^harrier: worker ${w}: rules: reloaded`)).length, 2, s.stderr);
        assert.equal(s.lines(new RegExp(`^harrier: worker ${w}: rules: reload failed`)).length, 1, s.stderr);
      }
    } else {
      assert.match(failures[0]!, /^harrier: rules: reload failed, keeping the running set \(1 rules\): the new set loads no rule \(1 failed, e\.g\. .*local\.rules:1: /);
    }
    const stats = JSON.parse(readFileSync(s.stats, 'utf8')) as Record<string, unknown>;
    assert.equal(stats['harrier.detect.reloads'], 2 * workers);
    assert.equal(stats['harrier.detect.reload_failures'], workers);
    const engines = stats['detect.engines'] as { id: number; rules_loaded: number; rules_failed: number; last_reload: string }[];
    assert.equal(engines.length, workers);
    assert.deepEqual(engines.map((e) => e.id).sort(), [...Array(workers).keys()]);
    for (const e of engines) {
      assert.equal(e.rules_loaded, 1);
      assert.equal(e.rules_failed, 0);
      assert.match(e.last_reload, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+0000$/);
    }
  } finally {
    s.done();
  }
}

