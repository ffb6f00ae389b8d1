/**
 * Classic pcap writer, to a file or to memory.
 *
 * Used for per-alert pcaps, so a record costs a 16-byte header and a copy
 * into one preallocated buffer; the buffer goes to the file with one
 * writeSync when full (or on flush/close), never one syscall per packet.
 * Output is little-endian with the microsecond (a1b2c3d4) or nanosecond
 * (a1b23c4d) magic; `bigEndian` exists so tests can produce the other byte
 * order the same way.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { HarrierError } from '../errors.js';
import { PCAP_MAGIC_NS, PCAP_MAGIC_US } from './pcap.js';

export interface PcapWriterOptions {
  /** Nanosecond timestamps (magic a1b23c4d); default microseconds. */
  nanos?: boolean;
  /** Snapshot length written in the header; longer packets are cut to it. Default 262144. */
  snaplen?: number;
  bigEndian?: boolean;
  /** File buffer size in bytes (default 1 MiB). */
  bufferSize?: number;
}

const DEFAULT_SNAPLEN = 262144;

export class PcapWriter {
  /** Records written. */
  records = 0;
  /** Bytes produced so far (header included), buffered or flushed. */
  bytes = 0;
  private buf: Buffer;
  private pos = 0;
  private fd: number | null;
  private closed = false;
  private readonly nanos: boolean;
  private readonly le: boolean;
  private readonly snaplen: number;
  private readonly path: string;
  /** Memory variant: flushed parts, joined by toBuffer(). */
  private readonly parts: Buffer[] = [];

  private constructor(fd: number | null, path: string, linkType: number, opts: PcapWriterOptions) {
    this.fd = fd;
    this.path = path;
    this.nanos = opts.nanos === true;
    this.le = opts.bigEndian !== true;
    this.snaplen = opts.snaplen ?? DEFAULT_SNAPLEN;
    this.buf = Buffer.allocUnsafe(Math.max(opts.bufferSize ?? (fd === null ? 64 * 1024 : 1024 * 1024), 64));
    const b = this.buf;
    this.u32(b, 0, this.nanos ? PCAP_MAGIC_NS : PCAP_MAGIC_US);
    if (this.le) {
      b.writeUInt16LE(2, 4);
      b.writeUInt16LE(4, 6);
    } else {
      b.writeUInt16BE(2, 4);
      b.writeUInt16BE(4, 6);
    }
    this.u32(b, 8, 0); // thiszone
    this.u32(b, 12, 0); // sigfigs
    this.u32(b, 16, this.snaplen);
    this.u32(b, 20, linkType);
    this.pos = 24;
    this.bytes = 24;
  }

  /** Creates (truncates) a pcap file. Throws HARRIER_ERR_OUTPUT naming the file. */
  static open(path: string, linkType: number, opts: PcapWriterOptions = {}): PcapWriter {
    let fd: number;
    try {
      fd = openSync(path, 'w');
    } catch (e) {
      throw new HarrierError('HARRIER_ERR_OUTPUT', `${path}: cannot create pcap: ${(e as Error).message}`, { cause: e });
    }
    return new PcapWriter(fd, path, linkType, opts);
  }

  /** A writer that builds the file in memory; get it with toBuffer(). */
  static memory(linkType: number, opts: PcapWriterOptions = {}): PcapWriter {
    return new PcapWriter(null, '(memory)', linkType, opts);
  }

  /**
   * Appends one record: data[off, off+len), cut to the snaplen, with
   * `origLen` (default len) as the original length. tsNsec is truncated to
   * microseconds in a microsecond file.
   */
  write(tsSec: number, tsNsec: number, data: Buffer, off: number, len: number, origLen: number = len): void {
    if (this.closed) throw new HarrierError('HARRIER_ERR_OUTPUT', `${this.path}: pcap write after close`);
    const cap = len > this.snaplen ? this.snaplen : len;
    const need = 16 + cap;
    if (this.pos + need > this.buf.length) {
      this.flush();
      if (need > this.buf.length) this.buf = Buffer.allocUnsafe(need);
    }
    const b = this.buf;
    const p = this.pos;
    this.u32(b, p, tsSec >>> 0);
    this.u32(b, p + 4, this.nanos ? tsNsec >>> 0 : Math.floor(tsNsec / 1000));
    this.u32(b, p + 8, cap);
    this.u32(b, p + 12, origLen >>> 0);
    data.copy(b, p + 16, off, off + cap);
    this.pos = p + need;
    this.bytes += need;
    this.records++;
  }

  /** Writes buffered records to the file (memory variant: moves them aside). */
  flush(): void {
    if (this.pos === 0) return;
    if (this.fd === null) {
      this.parts.push(Buffer.from(this.buf.subarray(0, this.pos)));
    } else {
      let done = 0;
      try {
        while (done < this.pos) done += writeSync(this.fd, this.buf, done, this.pos - done);
      } catch (e) {
        throw new HarrierError('HARRIER_ERR_OUTPUT', `${this.path}: cannot write pcap: ${(e as Error).message}`, { cause: e });
      }
    }
    this.pos = 0;
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    if (this.fd !== null) {
      const fd = this.fd;
      this.fd = null;
      closeSync(fd);
    }
  }

  /** Memory variant: the whole file so far. */
  toBuffer(): Buffer {
    if (this.fd !== null) throw new Error('PcapWriter.toBuffer is for writers made with PcapWriter.memory');
    return Buffer.concat([...this.parts, this.buf.subarray(0, this.pos)]);
  }

  private u32(b: Buffer, o: number, v: number): void {
    if (this.le) b.writeUInt32LE(v, o);
    else b.writeUInt32BE(v, o);
  }
}
