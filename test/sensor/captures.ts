/**
 * Finding the capture files under ../shared/data.
 *
 * A file counts as a capture when its name says so (.pcap, .pcapng, .cap,
 * .pcapclear…) or when its first four bytes are a pcap or pcapng magic
 * number; the name rule also brings in files that only pretend to be
 * captures, which the robustness test wants too.
 */
import { closeSync, openSync, readSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const NAME = /\.(pcap|pcapng|cap|pcapclear|pcap\d*|dmp|trace)$/i;
const MAGICS = new Set([0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1, 0x0a0d0d0a]);

function magicOf(path: string): number {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(4);
    return readSync(fd, b, 0, 4, 0) === 4 ? b.readUInt32BE(0) : -1;
  } finally {
    closeSync(fd);
  }
}

/** Capture files under `dir`, sorted by path (a deterministic order). */
export function findCaptures(dir: string, opts: { sniff?: boolean } = {}): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && (NAME.test(e.name) || (opts.sniff === true && MAGICS.has(magicOf(p))))) out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}
