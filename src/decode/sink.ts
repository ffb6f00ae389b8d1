/**
 * What a layer parser needs from the decoder: a way to raise a decoder event
 * on the packet (recorded on the packet and counted). Parsers in their own
 * modules take this instead of the Decoder class, so they stay independent.
 */
import type { Packet } from './packet.js';

export interface EventSink {
  event(pkt: Packet, id: number): void;
}
