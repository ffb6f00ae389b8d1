/**
 * A single-producer single-consumer ring of captured frames in a
 * SharedArrayBuffer: how the capture thread hands packets to a worker.
 *
 * Why not postMessage: a message per packet costs a structured clone and an
 * event-loop turn (measured: well under 1 Mpps), and batching into messages
 * still copies twice. Here the producer copies each frame once into shared
 * memory and the consumer decodes it in place; the two threads meet only on
 * two counters (Atomics), and sleep with Atomics.wait when the ring is empty
 * or full.
 *
 * Layout: Int32 control words, then the data area. A record is
 * [capLen, origLen, tsSec, tsNsec, linkType, ifIndex, numLo, numHi] (8 × u32)
 * + frame bytes, padded to 4 bytes. `num` is the frame's number in the whole
 * capture (EVE `pcap_cnt`): a worker sees only its share of the frames, so it
 * cannot count them itself; two words keep it exact past 2^32 frames. A
 * record never wraps: when it does not fit before the end, the producer
 * writes a WRAP marker and starts again at 0. Positions are
 * byte offsets into the data area; the ring is empty when read == write and
 * one byte is always left free so full and empty differ.
 */

const WRITE = 0;
const READ = 1;
const CLOSED = 2;
/** Producer sleeping for space / consumer sleeping for data (wake-ups are only sent when someone sleeps). */
const PRODUCER_WAITING = 3;
const CONSUMER_WAITING = 4;
/** The consumer failed: the producer must not wait for space that will never come. */
const CONSUMER_FAILED = 5;
const CTRL_WORDS = 8;
const HDR = 32;
const TWO32 = 0x1_0000_0000;
const WRAP = 0xffffffff;

/** Thrown to the producer when the consumer failed. */
export class RingConsumerFailed extends Error {
  constructor() {
    super('worker stopped consuming frames');
  }
}

export class FrameRing {
  readonly sab: SharedArrayBuffer;
  private readonly ctrl: Int32Array;
  private readonly data: Buffer;
  private readonly u32: Uint32Array;
  private readonly cap: number;

  /** A new ring of `bytes` data bytes, or a view of an existing one (the worker's side). */
  constructor(bytesOrSab: number | SharedArrayBuffer) {
    this.sab = typeof bytesOrSab === 'number' ? new SharedArrayBuffer(CTRL_WORDS * 4 + (bytesOrSab & ~3)) : bytesOrSab;
    this.ctrl = new Int32Array(this.sab, 0, CTRL_WORDS);
    this.cap = this.sab.byteLength - CTRL_WORDS * 4;
    this.data = Buffer.from(this.sab, CTRL_WORDS * 4, this.cap);
    this.u32 = new Uint32Array(this.sab, CTRL_WORDS * 4, this.cap >>> 2);
  }

  /** Largest frame the ring can carry. */
  get maxFrame(): number {
    return (this.cap >>> 1) - HDR;
  }

  // ---- producer -----------------------------------------------------------

  /**
   * Copies one frame in; blocks (Atomics.wait) while the ring is full.
   * Frames larger than maxFrame are cut to it (origLen keeps the truth).
   * `num`: the frame's number in the capture (1, 2, …), handed to the consumer as is.
   */
  push(buf: Buffer, off: number, capLen: number, origLen: number, tsSec: number, tsNsec: number, linkType: number, ifIndex: number, num = 0): void {
    const len = Math.min(capLen, this.maxFrame);
    const need = (HDR + len + 3) & ~3;
    let w = Atomics.load(this.ctrl, WRITE);
    for (;;) {
      const r = Atomics.load(this.ctrl, READ);
      // Space: contiguous room at w (and, when wrapping, room at 0 below r).
      if (w >= r) {
        if (w + need < this.cap || (w + need === this.cap && r > 0)) break;
        if (need < r) {
          // Wrap: mark the rest of the area unused, continue at 0.
          if (w + 4 <= this.cap) this.u32[w >>> 2] = WRAP;
          w = 0;
          Atomics.store(this.ctrl, WRITE, 0);
          this.wakeConsumer();
          continue;
        }
      } else if (w + need < r) break;
      this.waitForSpace(r);
    }
    const i = w >>> 2;
    const u = this.u32;
    u[i] = len;
    u[i + 1] = origLen;
    u[i + 2] = tsSec >>> 0;
    u[i + 3] = tsNsec >>> 0;
    u[i + 4] = linkType >>> 0;
    u[i + 5] = ifIndex >>> 0;
    u[i + 6] = num >>> 0;
    u[i + 7] = Math.floor(num / TWO32) >>> 0;
    buf.copy(this.data, w + HDR, off, off + len);
    let next = w + need;
    if (next === this.cap) next = 0;
    Atomics.store(this.ctrl, WRITE, next);
    this.wakeConsumer();
  }

  private waitForSpace(seenRead: number): void {
    if (Atomics.load(this.ctrl, CONSUMER_FAILED) === 1) throw new RingConsumerFailed();
    Atomics.store(this.ctrl, PRODUCER_WAITING, 1);
    // Re-check after announcing, or a wake-up sent in between is lost.
    if (Atomics.load(this.ctrl, READ) === seenRead) Atomics.wait(this.ctrl, READ, seenRead, 100);
    Atomics.store(this.ctrl, PRODUCER_WAITING, 0);
  }

  private wakeConsumer(): void {
    if (Atomics.load(this.ctrl, CONSUMER_WAITING) === 1) Atomics.notify(this.ctrl, WRITE);
  }

  /** The consumer side gave up (its thread is failing); wakes a waiting producer, which then throws. */
  fail(): void {
    Atomics.store(this.ctrl, CONSUMER_FAILED, 1);
    Atomics.notify(this.ctrl, READ);
  }

  get failed(): boolean {
    return Atomics.load(this.ctrl, CONSUMER_FAILED) === 1;
  }

  /** No more frames will come. */
  close(): void {
    Atomics.store(this.ctrl, CLOSED, 1);
    Atomics.notify(this.ctrl, WRITE);
  }

  // ---- consumer -----------------------------------------------------------

  /**
   * Hands every available frame to `sink` (in place: the Buffer view is only
   * valid during the call); waits up to `waitMs` when empty. Returns the
   * number of frames consumed, or -1 when the ring is closed and drained.
   */
  drain(
    sink: (data: Buffer, off: number, capLen: number, origLen: number, tsSec: number, tsNsec: number, linkType: number, ifIndex: number, num: number) => void,
    waitMs: number,
  ): number {
    let r = Atomics.load(this.ctrl, READ);
    let w = Atomics.load(this.ctrl, WRITE);
    if (r === w) {
      if (Atomics.load(this.ctrl, CLOSED) === 1) {
        // Closed is set after the last push: re-read write to be sure nothing is left.
        if (Atomics.load(this.ctrl, WRITE) === r) return -1;
      } else {
        Atomics.store(this.ctrl, CONSUMER_WAITING, 1);
        if (Atomics.load(this.ctrl, WRITE) === r && Atomics.load(this.ctrl, CLOSED) === 0) Atomics.wait(this.ctrl, WRITE, w, waitMs);
        Atomics.store(this.ctrl, CONSUMER_WAITING, 0);
      }
      w = Atomics.load(this.ctrl, WRITE);
    }
    let n = 0;
    const u = this.u32;
    while (r !== w) {
      const i = r >>> 2;
      const len = u[i];
      if (len === WRAP || r + HDR > this.cap) {
        r = 0;
        continue;
      }
      sink(this.data, r + HDR, len, u[i + 1], u[i + 2], u[i + 3], u[i + 4], u[i + 5], u[i + 7] * TWO32 + u[i + 6]);
      n++;
      r += (HDR + len + 3) & ~3;
      if (r === this.cap) r = 0;
      // Publish progress in batches of frames would save atomics, but the producer waits on it: publish each.
      Atomics.store(this.ctrl, READ, r);
      if (Atomics.load(this.ctrl, PRODUCER_WAITING) === 1) Atomics.notify(this.ctrl, READ);
      w = Atomics.load(this.ctrl, WRITE);
    }
    return n;
  }
}
