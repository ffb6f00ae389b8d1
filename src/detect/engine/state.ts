/**
 * Detection state that outlives one packet: per-flow (flowbits, flowints,
 * pass, stream inspection window) in `flow.ext[FlowExt.SIGNATURES]`, and
 * per-host xbits in a bounded table. Names are interned to small ids at
 * compile time, so the per-packet path compares numbers only.
 */
import type { Flow } from '../../flow/flow.js';
import type { FlowAppEvents } from './app-events.js';

/** Bytes of each direction's stream kept so a pattern split across segments still matches. */
export const STREAM_TAIL = 512;

export class SigFlowState {
  /** Flowbit ids set on this flow (few per flow: a short array beats a Set). */
  bits: number[] = [];
  /** Flowint id → value. */
  ints: Map<number, number> | null = null;
  /** A `pass` rule matched: the rest of the flow is not inspected. */
  pass = false;
  /** Last bytes of each direction's reassembled stream. */
  tail: [Buffer | null, Buffer | null] = [null, null];
  tailLen: [number, number] = [0, 0];
  /**
   * Rules that alerted on a packet of each direction since that direction's
   * last stream chunk: the chunk holding the same bytes (the reassembler
   * delivers it later, when the data is acknowledged) does not alert them again.
   */
  pktFired: [number[], number[]] = [[], []];
  /**
   * Stream-eligible rules the packet prefilter found in each direction's
   * packets since that direction's last stream chunk, and how many packets
   * contributed (-1: more than the list holds). See SignatureEngine.stream.
   */
  pending: [number[], number[]] = [[], []];
  pendingPkts: [number, number] = [0, 0];
  /**
   * The TLS/SSH handshake is over: the rest is ciphertext, and its payload is
   * not content-inspected (Suricata 7's default `encryption-handling`).
   */
  encrypted = false;
  /**
   * The handshake ended while the packet with this input number was parsed:
   * that packet (SSH's NEWKEYS, TLS's Finished) is still inspected, the next
   * ones are not. 0: none pending.
   */
  encryptFrom = 0;
  /** Stream bytes inspected per direction (for stream_size fallback and stats). */
  streamBytes: [number, number] = [0, 0];
  /** App-layer events the flow raised, for `app-layer-event` (app-events.ts); null until the first. */
  appEvents: FlowAppEvents | null = null;

  isSet(id: number): boolean {
    return this.bits.includes(id);
  }
  set(id: number): void {
    if (!this.bits.includes(id)) this.bits.push(id);
  }
  unset(id: number): void {
    const i = this.bits.indexOf(id);
    if (i >= 0) this.bits.splice(i, 1);
  }
  toggle(id: number): void {
    if (this.isSet(id)) this.unset(id);
    else this.set(id);
  }
}

const SLOT = 1; // FlowExt.SIGNATURES (const enum value; kept literal so this module needs no value import)

export function flowState(flow: Flow): SigFlowState {
  const ext = (flow.ext ??= []);
  let s = ext[SLOT] as SigFlowState | undefined;
  if (s === undefined) ext[SLOT] = s = new SigFlowState();
  return s;
}

export function peekFlowState(flow: Flow): SigFlowState | null {
  const ext = flow.ext;
  if (ext === null) return null;
  return (ext[SLOT] as SigFlowState | undefined) ?? null;
}

/**
 * xbits (`track ip_src|ip_dst|ip_pair`): host/pair key → name id → expiry
 * (packet time, seconds). Bounded: at `maxHosts` the oldest host entry is
 * evicted and counted. Keys are strings, but they are built only when a rule
 * with xbits is evaluated, never per packet.
 */
export class XbitsTable {
  private readonly hosts = new Map<string, Map<number, number>>();
  evicted = 0;
  constructor(private readonly maxHosts = 65536) {}

  isSet(key: string, id: number, now: number): boolean {
    const h = this.hosts.get(key);
    if (h === undefined) return false;
    const exp = h.get(id);
    if (exp === undefined) return false;
    if (exp < now) {
      h.delete(id);
      return false;
    }
    return true;
  }

  set(key: string, id: number, expire: number): void {
    let h = this.hosts.get(key);
    if (h === undefined) {
      if (this.hosts.size >= this.maxHosts) {
        const first = this.hosts.keys().next().value;
        if (first !== undefined) this.hosts.delete(first);
        this.evicted++;
      }
      this.hosts.set(key, (h = new Map()));
    }
    h.set(id, expire);
  }

  unset(key: string, id: number): void {
    this.hosts.get(key)?.delete(id);
  }

  get size(): number {
    return this.hosts.size;
  }
}
