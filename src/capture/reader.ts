/**
 * Reading captures: format sniffing, chunk stitching, and the file and
 * stream drivers.
 *
 * `CaptureParser` is a push parser: it is fed chunks as they come (256 KiB
 * reads from a file, 64 KiB pipe reads from `tcpdump -w -`) and delivers
 * every complete record to the sink with a pointer INTO the chunk, so
 * iterating records costs no copy and no allocation. Only a record or block
 * that straddles two chunks is copied, once, into a scratch buffer that
 * grows to the largest such unit; the format parser says how many bytes the
 * unit needs (`RecordParser.need`), so exactly that much is copied.
 *
 * Measured with test/capture/bench-capture.ts on the 2-core dev machine
 * (Node 20, heavily shared, so per CPU second), public-mix.pcap (45 MB, 168k
 * records), empty sink: readCaptureFile 4.0-4.6 GB/s, parse alone 4.3-5.2
 * GB/s; the same corpus as pcapng 2.2-2.5 GB/s and 3.5-4.0 GB/s.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { HarrierError } from '../errors.js';
import { LINK_TYPE_NAMES, SUPPORTED_LINK_TYPES, type FrameSink } from './frame.js';
import { isPcapMagic, PcapParser } from './pcap.js';
import { BT_SHB, PcapngParser } from './pcapng.js';
import { RecordContext, type CaptureParserOptions, type RecordParser } from './record-context.js';

export type { CaptureParserOptions } from './record-context.js';

export interface CaptureSummary {
  format: 'pcap' | 'pcapng';
  /** Records delivered to the sink. */
  records: number;
  /** Input bytes read (the file size when it was read to the end). */
  bytes: number;
  /** The input ended inside a record or block (the complete ones before it were delivered). */
  truncated: boolean;
  /** The input was found corrupt and the rest of it was ignored (see warnings). */
  corrupt: boolean;
  /** Human-readable, one line each. */
  warnings: string[];
  /** Distinct link types of the declared interfaces, in order of appearance. */
  linkTypes: number[];
}

/**
 * Read size for files. Measured (CPU time, public-mix.pcap, read + parse,
 * empty sink): 256 KiB 3.2-4.6 GB/s, 1 MiB 2.9-3.4 GB/s, 8 MiB 0.7-3.1 GB/s.
 * Small reads win because the chunk is still in L2 when the parser (and,
 * in the pipeline, the decoder) reads it right after the copy from the page
 * cache; the syscall count (~180 per 45 MB) is negligible either way.
 */
export const FILE_CHUNK = 256 * 1024;

/**
 * Throws HARRIER_ERR_LINKTYPE for a link type the decoder cannot handle, with
 * a one-line message naming it, e.g.
 * `capture.pcap: link type 127 IEEE802_11_RADIOTAP (radiotap 802.11) is not supported`.
 */
export function assertSupportedLinkType(lt: number, source: string): void {
  if (SUPPORTED_LINK_TYPES.has(lt)) return;
  const name = LINK_TYPE_NAMES[lt];
  throw new HarrierError(
    'HARRIER_ERR_LINKTYPE',
    `${source}: link type ${lt}${name ? ` ${name}` : ''} is not supported`,
  );
}

export class CaptureParser {
  private readonly ctx: RecordContext;
  private readonly source: string;
  private fmt: RecordParser | null = null;
  private format: 'pcap' | 'pcapng' = 'pcap';
  /** Scratch buffer holding the start of a unit cut by a chunk boundary. */
  private pend: Buffer = Buffer.alloc(0);
  private pendLen = 0;
  /** Absolute input offset of pend[0]. */
  private pendAbs = 0;
  /** Input bytes pushed so far. */
  private abs = 0;
  private ended = false;

  constructor(sink: FrameSink, opts: CaptureParserOptions = {}) {
    this.ctx = new RecordContext(sink, opts.onLinkType);
    this.source = opts.source ?? 'capture';
  }

  /** Records delivered so far. */
  get records(): number {
    return this.ctx.records;
  }

  /**
   * Feeds the next bytes of the input. Complete records are delivered before
   * this returns. The chunk is not kept (a cut unit's bytes are copied), so
   * the caller may reuse it.
   */
  push(chunk: Buffer): void {
    if (this.ended) throw new Error('CaptureParser.push after end()');
    const len = chunk.length;
    const abs0 = this.abs;
    this.abs += len;
    if (this.fmt !== null && this.fmt.stopped) return;
    let off = 0;
    // First complete the unit left over from the previous chunk, copying only the bytes it needs.
    while (this.pendLen > 0) {
      const need = this.need();
      const take = Math.min(need - this.pendLen, len - off);
      // Grow by what arrives, not by what the header claims: a bogus length then costs no memory.
      this.reserve(this.pendLen + take);
      chunk.copy(this.pend, this.pendLen, off, off + take);
      this.pendLen += take;
      off += take;
      if (this.pendLen < need) return;
      const used = this.parseUnits(this.pend, 0, this.pendLen, this.pendAbs);
      if (this.fmt !== null && this.fmt.stopped) {
        this.pendLen = 0;
        return;
      }
      if (used > 0) {
        // Normally the whole unit; anything after it stays pending.
        this.pend.copyWithin(0, used, this.pendLen);
        this.pendLen -= used;
        this.pendAbs += used;
      } else if (this.need() <= this.pendLen) {
        // Parsers promise `need` > bytes left whenever they stop; guard against looping forever.
        throw new Error('capture parser made no progress (internal error)');
      }
      // With used === 0 the unit's header was read and its full size is now known: loop to copy the rest.
    }
    const stop = this.parseUnits(chunk, off, len, abs0 + off);
    if (this.fmt !== null && this.fmt.stopped) return;
    const rest = len - stop;
    if (rest > 0) {
      this.reserve(rest);
      chunk.copy(this.pend, 0, stop, len);
      this.pendLen = rest;
      this.pendAbs = abs0 + stop;
    }
  }

  /**
   * Ends the input and returns the summary. Throws HARRIER_ERR_CAPTURE_FORMAT
   * when the input was empty or never got past its file header.
   */
  end(): CaptureSummary {
    if (!this.ended) {
      this.ended = true;
    }
    const fmt = this.fmt;
    if (this.abs === 0) {
      throw new HarrierError('HARRIER_ERR_CAPTURE_FORMAT', `${this.source}: empty input, not a pcap or pcapng capture`);
    }
    if (fmt === null) {
      throw new HarrierError(
        'HARRIER_ERR_CAPTURE_FORMAT',
        `${this.source}: too short (${this.abs} bytes) to be a pcap or pcapng capture`,
      );
    }
    if (!fmt.headerDone) {
      throw new HarrierError(
        'HARRIER_ERR_CAPTURE_FORMAT',
        `${this.source}: ${this.format} file header truncated (${this.abs} of ${fmt.need} bytes)`,
      );
    }
    let truncated = false;
    if (this.pendLen > 0 && !fmt.stopped) {
      truncated = true;
      this.ctx.warn(
        `capture truncated: last record cut at byte ${this.pendAbs} (${fmt.need - this.pendLen} bytes missing)`,
      );
      this.pendLen = 0;
    }
    return {
      format: this.format,
      records: this.ctx.records,
      bytes: this.abs,
      truncated,
      corrupt: fmt.stopped,
      warnings: this.ctx.warningList(),
      linkTypes: this.ctx.linkTypes.slice(),
    };
  }

  private need(): number {
    return this.fmt === null ? 4 : this.fmt.need;
  }

  private reserve(n: number): void {
    if (this.pend.length >= n) return;
    const next = Buffer.allocUnsafe(Math.max(n, this.pend.length * 2, 4096));
    this.pend.copy(next, 0, 0, this.pendLen);
    this.pend = next;
  }

  private parseUnits(buf: Buffer, off: number, end: number, abs: number): number {
    if (this.fmt === null) {
      if (end - off < 4) return off;
      this.fmt = this.sniff(buf.readUInt32BE(off));
    }
    return this.fmt.parse(buf, off, end, abs);
  }

  private sniff(magic: number): RecordParser {
    if (magic === BT_SHB) {
      this.format = 'pcapng';
      return new PcapngParser(this.ctx, this.source);
    }
    if (isPcapMagic(magic)) {
      this.format = 'pcap';
      return new PcapParser(this.ctx, this.source);
    }
    throw new HarrierError(
      'HARRIER_ERR_CAPTURE_FORMAT',
      `${this.source}: not a pcap or pcapng capture (starts with 0x${magic.toString(16).padStart(8, '0')}${hintFor(magic)})`,
    );
  }
}

/** Names a few common non-capture inputs so the message says what the file is. */
function hintFor(magic: number): string {
  if (magic >>> 16 === 0x1f8b) return ', gzip-compressed: decompress it first';
  if (magic === 0x504b0304) return ', a zip archive';
  if (magic >>> 8 === 0x425a68) return ', bzip2-compressed: decompress it first';
  if (magic === 0xfd377a58) return ', xz-compressed: decompress it first';
  if (magic === 0x28b52ffd) return ', zstd-compressed: decompress it first';
  return '';
}

/**
 * Reads a capture file synchronously in FILE_CHUNK reads (never the whole
 * file at once). Open and read errors become HARRIER_ERR_INPUT_OPEN naming
 * the file.
 */
export function readCaptureFile(path: string, sink: FrameSink, opts: CaptureParserOptions = {}): CaptureSummary {
  const source = opts.source ?? path;
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new HarrierError('HARRIER_ERR_INPUT_OPEN', `${source}: cannot open: ${ioReason(e)}`, { cause: e });
  }
  try {
    const parser = new CaptureParser(sink, { ...opts, source });
    // Small files (most test captures) get a buffer their size: allocating a full chunk per file dominated.
    const st = fstatSync(fd);
    const size = st.isFile() && st.size > 0 ? Math.min(FILE_CHUNK, st.size) : FILE_CHUNK;
    const buf = Buffer.allocUnsafe(size);
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, buf, 0, size, null);
      } catch (e) {
        throw new HarrierError('HARRIER_ERR_INPUT_OPEN', `${source}: cannot read: ${ioReason(e)}`, { cause: e });
      }
      if (n === 0) break;
      parser.push(n === size ? buf : buf.subarray(0, n));
    }
    return parser.end();
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads a capture from a stream (standard input, a pipe from
 * `tcpdump -w -`). Stream errors become HARRIER_ERR_INPUT_OPEN; on any error
 * the stream is destroyed by the async iterator.
 */
export async function readCaptureStream(
  stream: NodeJS.ReadableStream,
  sink: FrameSink,
  opts: CaptureParserOptions = {},
): Promise<CaptureSummary> {
  const source = opts.source ?? (stream === process.stdin ? 'standard input' : 'input stream');
  const parser = new CaptureParser(sink, { ...opts, source });
  try {
    for await (const chunk of stream) {
      if (typeof chunk === 'string') {
        throw new HarrierError('HARRIER_ERR_INPUT_OPEN', `${source}: stream delivers text, not bytes (an encoding was set)`);
      }
      parser.push(chunk);
    }
  } catch (e) {
    if (e instanceof HarrierError) throw e;
    throw new HarrierError('HARRIER_ERR_INPUT_OPEN', `${source}: cannot read: ${ioReason(e)}`, { cause: e });
  }
  return parser.end();
}

function ioReason(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'no such file';
    if (code === 'EACCES') return 'permission denied';
    if (code === 'EISDIR') return 'is a directory';
    return code ? `${code} ${e.message.split('\n')[0]}` : e.message.split('\n')[0];
  }
  return String(e);
}
