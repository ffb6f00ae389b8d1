/**
 * Crypto-mining: the JSON-RPC methods miners speak to pools.
 *  - Stratum (flows the app layer recognised as `stratum`): the first 4 KiB
 *    the miner sends are searched for `mining.subscribe`,
 *    `mining.authorize`, `mining.submit`, `mining.extranonce.subscribe`,
 *    XMRig's `login`/`submit`/`keepalived`, and `eth_submitLogin`/
 *    `eth_getWork`/`eth_submitWork`/`eth_submitHashrate`.
 *  - Getwork / getblocktemplate over HTTP (older pools, solo mining): an
 *    HTTP request body that is a JSON-RPC call of `getwork`,
 *    `getblocktemplate`, `submitblock` or the `eth_*Work` methods.
 * One finding per (miner, pool) per `window` seconds (a miner reconnects
 * often; each flow still counts in `harrier.behaviour.mining.flows`); the
 * subject is the miner (the flow's client), the pool is named. Flows of other protocols cost one
 * string comparison per reassembled chunk.
 */
import type { Flow } from '../../../flow/flow.js';
import { HttpTx } from '../../../applayer/http/tx.js';
import type { DetectorSettings } from '../config.js';
import { BoundedTable, Every, clientKey, finding, flowClientIp, flowServerIp, flowSite, pairKey, serverKey, th, type BehaviourContext, type SubDetector } from './shared.js';

const SCAN_BYTES = 4096;
const STRATUM_METHODS = needles([
  'mining.subscribe',
  'mining.authorize',
  'mining.submit',
  'mining.extranonce.subscribe',
  'eth_submitLogin',
  'eth_getWork',
  'eth_submitWork',
  'eth_submitHashrate',
  '"login"',
  '"keepalived"',
  '"submit"',
]);
const HTTP_METHODS = needles(['"getwork"', '"getblocktemplate"', '"submitblock"', '"eth_getWork"', '"eth_submitWork"', '"eth_submitHashrate"', '"mining.']);

interface Needle {
  readonly bytes: Buffer;
  readonly name: string;
}

/** Needles encoded once: Buffer.indexOf(string) encodes its argument on every call (measured: the largest cost of this detector). */
function needles(methods: readonly string[]): Needle[] {
  return methods.map((m) => ({ bytes: Buffer.from(m, 'latin1'), name: m.replace(/"/g, '') }));
}
const METHOD_KEY = Buffer.from('"method"', 'latin1');
const METHOD_KEY_SQ = Buffer.from("'method'", 'latin1');

/** The first mining method named in b[off, off+len), or null. */
export function miningMethod(b: Buffer, off: number, len: number, methods: readonly Needle[]): string | null {
  const view = b.subarray(off, off + len);
  if (view.indexOf(METHOD_KEY) < 0 && view.indexOf(METHOD_KEY_SQ) < 0) return null;
  let best = -1;
  let name: string | null = null;
  for (const m of methods) {
    const i = view.indexOf(m.bytes);
    if (i >= 0 && (best < 0 || i < best)) {
      best = i;
      name = m.name;
    }
  }
  return name;
}

export function createMining(ctx: BehaviourContext, s: DetectorSettings): SubDetector {
  const win = th(s, 'window');
  const seen = new WeakMap<Flow, number>();
  const done = new WeakSet<Flow>();
  /** Per (miner, pool): when the last finding was made (one per window; a miner reconnects often). */
  const pairs = new BoundedTable<number>(ctx.maxTracked);
  const sweep = new Every(60);
  let flows = 0;

  function raise(flow: Flow, method: string, via: string, tx: HttpTx | null): void {
    done.add(flow);
    flows++;
    const k = pairKey(clientKey(flow), serverKey(flow));
    const last = pairs.get(k);
    if (last !== undefined && flow.lastSec - last < win) return;
    pairs.set(k, flow.lastSec);
    const src = flowClientIp(flow);
    const pool = `${flowServerIp(flow)}:${flow.serverPort}`;
    ctx.report(
      finding('mining.stratum', ctx.identify(src, -1, flow.lastSec), { ...flowSite(flow, 0), tx }, {
        explanation: `${src} speaks a mining protocol (${via}, method ${method}) to ${pool}`,
        observed: method,
        baseline: 'no mining protocol',
        unit: 'JSON-RPC method',
        extra: { pool, protocol: via },
      }),
    );
  }

  return {
    name: 'mining.stratum',
    stream(flow, dir, buf, off, len) {
      if (dir !== 0 || flow.appProto !== 'stratum' || done.has(flow)) return;
      const before = seen.get(flow) ?? 0;
      if (before >= SCAN_BYTES) return;
      const n = Math.min(len, SCAN_BYTES - before);
      seen.set(flow, before + n);
      const m = miningMethod(buf, off, n, STRATUM_METHODS);
      if (m !== null) raise(flow, m, 'stratum', null);
    },
    tx(flow, tx) {
      if (!(tx instanceof HttpTx) || done.has(flow) || tx.requestBody.length === 0) return;
      const body = tx.requestBody.bytes();
      // JSON-RPC only: the first non-blank byte opens an object or array.
      let i = 0;
      while (i < body.length && (body[i] === 0x20 || body[i] === 0x0a || body[i] === 0x0d || body[i] === 0x09)) i++;
      if (body[i] !== 0x7b && body[i] !== 0x5b) return;
      const m = miningMethod(body, 0, Math.min(body.length, SCAN_BYTES), HTTP_METHODS);
      if (m !== null) raise(flow, m, 'http getwork', tx);
    },
    tick(tsSec) {
      if (sweep.due(tsSec)) pairs.sweep((t) => tsSec - t > win);
    },
    counters() {
      return { 'harrier.behaviour.mining.flows': flows, 'harrier.behaviour.mining.tracked': pairs.size, 'harrier.behaviour.mining.evicted': pairs.evicted };
    },
  };
}
