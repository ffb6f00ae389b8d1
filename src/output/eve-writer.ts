/**
 * Writes EVE records as JSON lines to a file or to standard output.
 *
 * Lines are gathered in memory and written in blocks of at least 64 KiB with
 * a synchronous write, which keeps record order and costs one system call per
 * block rather than per event. A pipe reader that stops reading (EPIPE, e.g.
 * `harrier analyze … --eve - | head`) ends output quietly rather than crashing.
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { HarrierError } from '../errors.js';

const FLUSH_AT = 64 * 1024;

export interface EveSink {
  write(record: object): void;
  close(): void;
  readonly records: number;
}

export class EveWriter implements EveSink {
  private fd: number;
  private readonly ownsFd: boolean;
  private pending: string[] = [];
  private pendingBytes = 0;
  private broken = false;
  records = 0;

  /**
   * `path` is a file name, or `-` for standard output; `{ fd }` writes to a
   * descriptor someone else owns (worker threads appending to one file).
   */
  constructor(path: string | { fd: number }) {
    if (typeof path === 'object') {
      this.fd = path.fd;
      this.ownsFd = false;
    } else if (path === '-') {
      this.fd = 1;
      this.ownsFd = false;
    } else {
      try {
        mkdirSync(dirname(path), { recursive: true });
        this.fd = openSync(path, 'w');
      } catch (err) {
        throw new HarrierError('HARRIER_ERR_OUTPUT', `cannot write EVE file ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
      }
      this.ownsFd = true;
    }
  }

  write(record: object): void {
    const line = JSON.stringify(record) + '\n';
    this.pending.push(line);
    this.pendingBytes += line.length;
    this.records++;
    if (this.pendingBytes >= FLUSH_AT) this.flush();
  }

  flush(): void {
    if (this.pending.length === 0) return;
    const buf = Buffer.from(this.pending.join(''), 'utf8');
    this.pending = [];
    this.pendingBytes = 0;
    if (this.broken) return;
    let off = 0;
    while (off < buf.length) {
      try {
        off += writeSync(this.fd, buf, off, buf.length - off);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') continue; // non-blocking pipe full: retry
        if (code === 'EPIPE') {
          this.broken = true;
          return;
        }
        throw new HarrierError('HARRIER_ERR_OUTPUT', `EVE output failed: ${code ?? String(err)}`);
      }
    }
  }

  close(): void {
    this.flush();
    if (this.ownsFd) closeSync(this.fd);
  }
}

/** Keeps records in memory (tests, embedding). */
export class EveCollector implements EveSink {
  readonly out: Record<string, unknown>[] = [];
  get records(): number {
    return this.out.length;
  }
  write(record: object): void {
    this.out.push(record as Record<string, unknown>);
  }
  close(): void {}
}
