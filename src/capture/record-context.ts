/**
 * State shared by the pcap and pcapng record parsers and the driver that
 * feeds them (reader.ts): the sink, the link-type callback, counters and
 * warnings.
 *
 * Warnings are strings meant for a human (the CLI prints them); a broken
 * file could produce one per record, so only the first MAX_WARNINGS are kept
 * as text and the rest are counted, keeping a hostile input from turning into
 * unbounded memory and string building.
 */
import type { FrameSink } from './frame.js';

export const MAX_WARNINGS = 20;

export interface CaptureParserOptions {
  /**
   * Called when the parser learns an interface's link type (pcap file header,
   * pcapng IDB), before any record of that interface is delivered. Throwing
   * (e.g. `assertSupportedLinkType`) aborts parsing: the error propagates out
   * of `push`/`readCapture*`.
   */
  onLinkType?(linkType: number, ifIndex: number): void;
  /** Name used in error messages (a path, "standard input"). */
  source?: string;
}

/**
 * The contract between the driver and a format parser.
 *
 * `parse` consumes whole units (file header, record, block) from
 * buf[off, end) and returns the offset just after the last one it consumed;
 * after it returns, `need` is the total number of bytes the unit starting at
 * that offset needs before `parse` can make progress (always more than what
 * was left). The driver uses `need` to stitch a unit that straddles two
 * chunks by copying just that unit. `abs` is the absolute input offset of
 * buf[off], used in messages.
 */
export interface RecordParser {
  parse(buf: Buffer, off: number, end: number, abs: number): number;
  readonly need: number;
  /** Set once the input was found corrupt: the rest of it is ignored. */
  readonly stopped: boolean;
  /** True once the file header (pcap header, first SHB) has been read. */
  readonly headerDone: boolean;
}

export class RecordContext {
  records = 0;
  readonly warnings: string[] = [];
  private extraWarnings = 0;
  readonly linkTypes: number[] = [];

  constructor(
    readonly sink: FrameSink,
    private readonly onLinkTypeCb: ((linkType: number, ifIndex: number) => void) | undefined,
  ) {}

  warn(msg: string): void {
    if (this.warnings.length < MAX_WARNINGS) this.warnings.push(msg);
    else this.extraWarnings++;
  }

  /** Records a newly declared interface's link type and lets the caller veto it. */
  linkType(lt: number, ifIndex: number): void {
    if (!this.linkTypes.includes(lt)) this.linkTypes.push(lt);
    this.onLinkTypeCb?.(lt, ifIndex);
  }

  /** The warnings, with a last line counting those not kept. */
  warningList(): string[] {
    const out = this.warnings.slice();
    if (this.extraWarnings > 0) out.push(`${this.extraWarnings} more warnings not shown`);
    return out;
  }
}

/** Unsigned 32-bit read in the file's byte order (inlined by V8; no bounds check: callers checked). */
export function rd32(b: Buffer, o: number, le: boolean): number {
  return le
    ? (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16)) + b[o + 3] * 0x1000000
    : (b[o + 3] | (b[o + 2] << 8) | (b[o + 1] << 16)) + b[o] * 0x1000000;
}

export function rd16(b: Buffer, o: number, le: boolean): number {
  return le ? b[o] | (b[o + 1] << 8) : (b[o] << 8) | b[o + 1];
}
