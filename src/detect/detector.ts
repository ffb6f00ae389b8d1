/**
 * What a detector (signatures, intel, behaviour) is to the pipeline: a set of
 * optional hooks it is called at, in packet time. A detector says what it
 * saw through the shared AlertPath (src/detect/alert.ts); it never writes EVE
 * itself, so every alert carries the same context whatever raised it.
 *
 * Order per packet: decode → flow → stream/app layer (the `stream` and `tx`
 * hooks fire while the packet's data is parsed) → `packet`. A hook left out
 * costs nothing.
 */
import type { Flow } from '../flow/flow.js';
import type { Packet } from '../decode/packet.js';
import type { AppTx, Direction } from '../applayer/parser.js';
import type { Counters } from '../events/stats.js';

export interface Detector {
  readonly name: string;
  /**
   * Every decoded packet. `flow` is null for packets that belong to no flow
   * (decoder refused the transport); `dir` is the packet's direction in its
   * flow (0 toServer, 1 toClient).
   */
  packet?(pkt: Packet, flow: Flow | null, dir: Direction): void;
  /** In-order reassembled TCP bytes of one direction, as the app layer gets them. */
  stream?(flow: Flow, dir: Direction, buf: Buffer, off: number, len: number): void;
  /** A completed application-layer transaction (HTTP request/response, DNS message, TLS handshake, SSH banners…). */
  tx?(flow: Flow, tx: AppTx): void;
  /**
   * The app layer raised a named event on the flow (`tls.invalid_certificate`,
   * `http.too_many_encoding_layers`, …: the EVE anomaly names), while the
   * current packet's data is parsed, before the `packet` hook.
   */
  appEvent?(flow: Flow, name: string): void;
  /** The flow ended (timeout, close, memcap, shutdown); called before its flow record is written. */
  flowEnd?(flow: Flow): void;
  /** Once per second of packet time. */
  tick?(tsSec: number): void;
  /** End of input, after every flow ended. */
  finish?(): void;
  counters?(): Counters;
}
