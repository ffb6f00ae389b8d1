/**
 * Helpers for tests that drive real programs (ip, tcpdump, servers in network
 * namespaces): run a command, wait for a child to print a line, wait for it
 * to exit — every wait bounded.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';

/** Run a command synchronously (15 s bound); throws unless `allowFail`. */
export function sh(args: string[], allowFail = false): { ok: boolean; out: string } {
  const r = spawnSync(args[0], args.slice(1), { encoding: 'utf8', timeout: 15000 });
  const ok = r.status === 0;
  if (!ok && !allowFail) throw new Error(`${args.join(' ')} failed: ${r.stderr || r.error}`);
  return { ok, out: (r.stdout ?? '') + (r.stderr ?? '') };
}

/** `ip netns exec NS …` */
export const inNs = (ns: string, ...args: string[]): string[] => ['ip', 'netns', 'exec', ns, ...args];

const running = (c: ChildProcess): boolean => c.exitCode === null && c.signalCode === null;

/** Resolves once the child prints `text` (stdout or stderr); rejects on timeout or exit first. */
export function waitFor(child: ChildProcess, text: string, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`timed out waiting for "${text}": ${buf}`)), ms);
    const on = (d: Buffer) => {
      buf += d.toString();
      if (buf.includes(text)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', on);
    child.stderr?.on('data', on);
    child.on('exit', () => {
      clearTimeout(timer);
      if (!buf.includes(text)) reject(new Error(`exited before "${text}": ${buf}`));
    });
  });
}

/** Resolves when the child has exited, killing it after `ms`. */
export function exited(child: ChildProcess, ms: number): Promise<void> {
  return new Promise((resolve) => {
    if (!running(child)) return resolve();
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve();
    }, ms);
    child.on('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Kill every child still running. */
export function killAll(children: readonly ChildProcess[]): void {
  for (const c of children) if (running(c)) c.kill('SIGKILL');
}
