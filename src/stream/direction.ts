/**
 * Reassembly state of one direction of one TCP flow.
 *
 * `nextSeq` is the sequence number of the next byte the application layer
 * has not yet seen; everything before it was delivered exactly once.
 * Out-of-order data waits in `holdSeq`/`holdBuf`: copies (the packet buffer
 * does not outlive the packet), sorted by sequence, never overlapping each
 * other, all strictly after `nextSeq`. Typical streams hold nothing, so
 * plain arrays (touched only on the out-of-order path) beat a tree here.
 */
import type { FlowStreamState } from '../flow/flow.js';

export class StreamDirection implements FlowStreamState {
  /** Initial sequence number known (from SYN, or first packet mid-stream). */
  init = false;
  isn = 0;
  /** Next expected sequence number (unsigned 32-bit). */
  nextSeq = 0;
  /** A FIN was seen; no data at or beyond `finSeq` is accepted. */
  finSeen = false;
  finSeq = 0;
  /** No more data will be delivered (FIN reached, RST, or flow end); `end` was reported. */
  closed = false;
  /** Bytes delivered in order so far. */
  delivered = 0;
  /** Held out-of-order segments. */
  readonly holdSeq: number[] = [];
  readonly holdBuf: Buffer[] = [];
  /** Sum of held segment lengths. */
  bufferedBytes = 0;
}
