/**
 * What starts a rule reload in a running `harrier analyze`: a signal, or a
 * change of the rule files seen by a periodic check. The reload itself is
 * detect/engine/reload.ts (one pipeline) and sensor/parallel.ts (forwarded
 * to every worker thread).
 *
 * Signals: SIGHUP (what an operator expects of a daemon) and SIGUSR2 (what
 * Suricata uses for its rule reload, so existing scripts work). Both are
 * caught only while the analysis runs; afterwards the default action is back.
 *
 * Polling (off by default; meant for `-`, a live capture on standard input):
 * every N seconds a fingerprint of the inputs is taken — for each rule path
 * the target of a symlink (`DIR/current` of `harrier rules update` is one),
 * size and mtime of the file or of each file in the folder, the
 * `state.json` beside it, and the config file. A reload starts when the
 * fingerprint differs from the one of the running set and has stayed the
 * same for one interval, so a file still being written is not loaded half.
 * The check is a few stat calls, never per packet.
 *
 * Reloads never overlap: a trigger that arrives while one runs (the parallel
 * reload waits for its workers) runs once more after it.
 */
import { lstatSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface ReloadTriggerOptions {
  /** Signals that start a reload (default SIGHUP and SIGUSR2). */
  signals?: NodeJS.Signals[];
  /** Seconds between fingerprint checks; 0 or undefined: no polling. */
  pollSeconds?: number;
  /** Paths whose change starts a reload when polling (rule files/folders, config file). */
  watch?: string[];
}

/** A reload run: `why` is the trigger (`SIGHUP`, `rules changed on disk`). */
export type ReloadRun = (why: string) => void | Promise<void>;

/**
 * Start listening; returns the function that stops (removes the signal
 * handlers and the timer). `run` must not throw; a rejection is ignored.
 */
export function startReloadTriggers(run: ReloadRun, opts: ReloadTriggerOptions = {}): () => void {
  let running = false;
  let again: string | null = null;
  const watch = opts.watch ?? [];
  const polling = opts.pollSeconds !== undefined && opts.pollSeconds > 0 && watch.length > 0;
  /** Fingerprint of the inputs as the last reload (whatever started it, whatever its outcome) read them. */
  let loaded = polling ? inputFingerprint(watch) : '';
  const fire = (why: string): void => {
    if (running) {
      again = why;
      return;
    }
    running = true;
    // A failed set is not retried by the poll until it changes again.
    if (polling) loaded = inputFingerprint(watch);
    void Promise.resolve()
      .then(() => run(why))
      .catch(() => undefined)
      .finally(() => {
        running = false;
        if (again !== null) {
          const w = again;
          again = null;
          fire(w);
        }
      });
  };
  const signals = opts.signals ?? ['SIGHUP', 'SIGUSR2'];
  const handlers = signals.map((sig) => {
    const h = (): void => fire(sig);
    process.on(sig, h);
    return [sig, h] as const;
  });
  let timer: NodeJS.Timeout | null = null;
  if (polling) {
    let last = loaded;
    timer = setInterval(() => {
      const now = inputFingerprint(watch);
      // Changed since the last reload read it, and unchanged for one interval.
      if (now !== loaded && now === last) fire('rules changed on disk');
      last = now;
    }, opts.pollSeconds! * 1000);
    // The check must not keep a finished process alive.
    timer.unref();
  }
  return () => {
    for (const [sig, h] of handlers) process.off(sig, h);
    if (timer !== null) clearInterval(timer);
  };
}

/**
 * A string that changes when any watched input changes (see the header).
 * Missing or unreadable paths are part of it too (their appearing counts).
 */
export function inputFingerprint(paths: readonly string[]): string {
  const parts: string[] = [];
  const one = (p: string): void => {
    try {
      const st = statSync(p);
      parts.push(`${p}:${st.ino}:${st.size}:${st.mtimeMs}`);
      if (st.isDirectory()) {
        for (const name of readdirSync(p).sort()) {
          try {
            const e = statSync(join(p, name));
            parts.push(`${name}:${e.ino}:${e.size}:${e.mtimeMs}`);
          } catch {
            parts.push(`${name}:gone`);
          }
        }
      }
    } catch {
      parts.push(`${p}:missing`);
    }
  };
  for (const p of paths) {
    try {
      if (lstatSync(p).isSymbolicLink()) parts.push(`${p}->${readlinkSync(p)}`);
    } catch {
      // missing: recorded by one()
    }
    one(p);
    one(join(dirname(p), 'state.json'));
  }
  return parts.join('\n');
}
