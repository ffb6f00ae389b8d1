/**
 * A small reader of tar archives (POSIX ustar, with GNU long names and pax
 * `path` records), for rule tarballs only.
 *
 * Why our own and not an npm package: a rule tarball is read whole from
 * memory after a size-limited download, and only its regular files matter.
 * Reading it here is ~100 lines with every limit under our control (entry
 * count, total bytes, header checksums, truncation) and no file-system side
 * effects at all — nothing is written, links and devices are ignored, and
 * names are returned for the caller to sanitise. A streaming extractor such
 * as `tar` writes to disk by design, which is the step we want to control.
 */

export class TarError extends Error {}

export interface TarFile {
  /** Path inside the archive as written (may contain folders; never trusted as a file-system path). */
  name: string;
  data: Buffer;
}

export interface TarLimits {
  /** Most entries of any kind (default 100,000). */
  maxEntries?: number;
  /** Most bytes in regular files altogether (default 512 MiB). */
  maxFileBytes?: number;
}

const BLOCK = 512;

function cstring(b: Buffer, start: number, len: number): string {
  const end = b.indexOf(0, start);
  return b.toString('utf8', start, end < 0 || end > start + len ? start + len : end);
}

/** Numeric header field: octal text, or GNU base-256 when the top bit is set. */
function numberField(b: Buffer, start: number, len: number, what: string): number {
  if (b[start] & 0x80) {
    let n = 0;
    for (let i = start + 1; i < start + len; i++) n = n * 256 + b[i];
    if (!Number.isSafeInteger(n)) throw new TarError(`tar: ${what} too large`);
    return n;
  }
  const s = cstring(b, start, len).trim();
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) throw new TarError(`tar: bad ${what} field ${JSON.stringify(s)}`);
  return parseInt(s, 8);
}

function checksumOk(h: Buffer): boolean {
  const want = numberField(h, 148, 8, 'checksum');
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i];
  return sum === want;
}

/** `len key=value\n` records of a pax header; returns the `path` one if any. */
function paxPath(data: Buffer): string | undefined {
  let off = 0;
  let path: string | undefined;
  while (off < data.length) {
    const sp = data.indexOf(0x20, off);
    if (sp < 0) break;
    const len = Number(data.toString('ascii', off, sp));
    if (!Number.isInteger(len) || len <= 0 || off + len > data.length) throw new TarError('tar: bad pax header');
    const rec = data.toString('utf8', sp + 1, off + len - 1);
    const eq = rec.indexOf('=');
    if (eq > 0 && rec.slice(0, eq) === 'path') path = rec.slice(eq + 1);
    off += len;
  }
  return path;
}

/**
 * The regular files of a tar archive. Throws TarError for a corrupt header
 * (bad checksum), an entry running past the end (truncated archive), or a
 * limit exceeded. Links, devices and folders are skipped.
 */
export function readTar(buf: Buffer, limits: TarLimits = {}): TarFile[] {
  const maxEntries = limits.maxEntries ?? 100_000;
  const maxFileBytes = limits.maxFileBytes ?? 512 * 1024 * 1024;
  const files: TarFile[] = [];
  let off = 0;
  let entries = 0;
  let total = 0;
  let longName: string | undefined;
  let sawEnd = false;
  while (off + BLOCK <= buf.length) {
    const h = buf.subarray(off, off + BLOCK);
    if (h.every((x) => x === 0)) {
      sawEnd = true;
      break;
    }
    if (!checksumOk(h)) throw new TarError(`tar: bad header checksum at offset ${off} (not a tar archive, or corrupt)`);
    if (++entries > maxEntries) throw new TarError(`tar: more than ${maxEntries} entries`);
    const size = numberField(h, 124, 12, 'size');
    const type = String.fromCharCode(h[156] || 0x30);
    const dataStart = off + BLOCK;
    const dataEnd = dataStart + size;
    if (dataEnd > buf.length) throw new TarError(`tar: entry at offset ${off} runs past the end (truncated archive)`);
    const data = buf.subarray(dataStart, dataEnd);
    off = dataStart + Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'L') {
      longName = cstring(data, 0, data.length);
      continue;
    }
    if (type === 'x') {
      longName = paxPath(data) ?? longName;
      continue;
    }
    if (type === 'g') continue;
    let name = longName ?? cstring(h, 0, 100);
    longName = undefined;
    const magic = h.toString('ascii', 257, 262);
    if (magic === 'ustar' && name === cstring(h, 0, 100)) {
      const prefix = cstring(h, 345, 155);
      if (prefix !== '') name = `${prefix}/${name}`;
    }
    if (type !== '0' && type !== '7') continue;
    total += size;
    if (total > maxFileBytes) throw new TarError(`tar: files exceed ${maxFileBytes} bytes`);
    files.push({ name, data: Buffer.from(data) });
  }
  if (!sawEnd && off < buf.length) throw new TarError('tar: archive ends inside a header (truncated)');
  if (!sawEnd && entries === 0) throw new TarError('tar: empty or not a tar archive');
  return files;
}

/** Builds a ustar archive of regular files (for tests and tools; names up to 100 bytes). */
export function writeTar(files: readonly TarFile[]): Buffer {
  const parts: Buffer[] = [];
  for (const f of files) {
    const h = Buffer.alloc(BLOCK);
    if (Buffer.byteLength(f.name) > 100) throw new TarError(`tar: name too long: ${f.name}`);
    h.write(f.name, 0, 'utf8');
    h.write('0000644\0', 100, 'ascii');
    h.write('0000000\0', 108, 'ascii');
    h.write('0000000\0', 116, 'ascii');
    h.write(f.data.length.toString(8).padStart(11, '0') + '\0', 124, 'ascii');
    h.write(Math.floor(Date.now() / 1000).toString(8).padStart(11, '0') + '\0', 136, 'ascii');
    h.write('        ', 148, 'ascii');
    h[156] = 0x30;
    h.write('ustar\0', 257, 'ascii');
    h.write('00', 263, 'ascii');
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += h[i];
    h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii');
    parts.push(h, f.data, Buffer.alloc((BLOCK - (f.data.length % BLOCK)) % BLOCK));
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(parts);
}
