/**
 * Runs one capture through Harrier's pipeline exactly as `harrier analyze`
 * does (readCaptureFile → Pipeline → finish, EVE flow records collected),
 * and additionally records, per frame, which flow the flow table put it in.
 *
 * The per-frame view is what lets the conformance test explain a difference
 * with tshark frame by frame (this frame raised decoder.ipv4.trunc_pkt, that
 * one is an ICMP error Harrier attached to the flow it quotes) instead of
 * only noting that two totals differ. It is gathered by wrapping the flow
 * table's `handle` on this one pipeline instance; the EVE records remain the
 * numbers under test, and the test checks they agree with the per-frame view.
 */
import { assertSupportedLinkType, readCaptureFile } from '../../src/capture/reader.js';
import type { FrameSink } from '../../src/capture/frame.js';
import { DECODER_EVENT_NAMES } from '../../src/decode/events.js';
import type { Packet } from '../../src/decode/packet.js';
import type { Flow } from '../../src/flow/flow.js';
import { HarrierError } from '../../src/errors.js';
import { EveCollector } from '../../src/output/eve-writer.js';
import { defaultConfig, type HarrierConfig } from '../../src/sensor/config.js';
import { Pipeline } from '../../src/sensor/pipeline.js';
import type { StreamSink } from '../../src/stream/reassembler.js';
import { convKey, endpoint } from '../support/tshark.js';

/** A flow as its EVE record reports it, plus what the comparison needs from the Flow. */
export interface HarrierFlow {
  flowId: number;
  proto: number;
  client: string;
  server: string;
  key: string;
  pktsToServer: number;
  pktsToClient: number;
  bytesToServer: number;
  bytesToClient: number;
  /** EVE flow.state: new, established, closed. */
  state: string;
  /** VLAN ids, comma-joined ('' none). */
  vlan: string;
  /** The flow is the inner flow of a tunnel Harrier decoded (VXLAN, Geneve, GRE, IP-in-IP). */
  tunnel: boolean;
  first: number;
  last: number;
}

export interface HarrierRun {
  file: string;
  /** Records the reader delivered. */
  records: number;
  truncated: boolean;
  /** The reader found a corrupt record and ignored the rest (its warning in `warnings`). */
  corrupt: boolean;
  warnings: string[];
  /** A HarrierError that ended the file (link type or format), as `CODE message`; null when read fully. */
  refused: string | null;
  refusedCode: string | null;
  /** Per frame (0-based): the flow id the frame was counted in, -1 none. */
  flowOf: Float64Array;
  /** Per frame: direction within that flow (0 to server, 1 to client). */
  dirOf: Uint8Array;
  /** Per frame: IP protocol of the decoded (innermost) packet, 0 when not decoded. */
  protoOf: Uint8Array;
  /** Per frame: the frame was an IP fragment that Harrier held for reassembly or could not reassemble. */
  fragOf: Uint8Array;
  /** Per frame: bytes the flow table added to its flow (the inner part for a tunnelled frame), 0 when in no flow. */
  bytesOf: Float64Array;
  /** Decoder events of frames that raised any (sparse). */
  eventsOf: Map<number, string[]>;
  /** Flows by id, every protocol. */
  flows: Map<number, HarrierFlow>;
}

/**
 * The default configuration with a 4096-bucket flow hash instead of 65536:
 * bucket count changes no result, but building the default table costs about
 * 7 ms, which over ~4,700 captures (one fresh pipeline each) was most of the
 * test's time.
 */
export function smallTableConfig(): HarrierConfig {
  const c = defaultConfig();
  c.flow.hashSize = 4096;
  return c;
}

function vlanText(v: unknown): string {
  return Array.isArray(v) ? v.join(',') : '';
}

/**
 * Runs `file` through a fresh pipeline. A HarrierError (unsupported link
 * type, not a capture) is caught and reported in `refused`, as the CLI would
 * report it; anything else propagates (a crash fails the test).
 */
export function runHarrier(file: string, opts: { stream?: StreamSink; cfg?: HarrierConfig; eve?: EveCollector } = {}): HarrierRun {
  // A caller that passes its own collector reads the other EVE records (http, dns, tls…) from it afterwards.
  const eve = opts.eve ?? new EveCollector();
  const p = new Pipeline(opts.cfg ?? smallTableConfig(), { eve, stream: opts.stream });
  let cur: Flow | null = null;
  const flowObjs = new Map<number, Flow>();
  const table = p.flows;
  const handle = table.handle.bind(table);
  table.handle = (pkt: Packet): Flow | null => {
    cur = handle(pkt);
    return cur;
  };
  const flowOf: number[] = [];
  const dirOf: number[] = [];
  const protoOf: number[] = [];
  const fragOf: number[] = [];
  const bytesOf: number[] = [];
  /** Flow byte totals after the frame before, to read what each frame added. */
  const bytesSeen = new Map<Flow, number>();
  const eventsOf = new Map<number, string[]>();
  const sink: FrameSink = {
    frame(data, off, capLen, origLen, tsSec, tsNsec, linkType, ifIndex) {
      cur = null;
      p.frame(data, off, capLen, origLen, tsSec, tsNsec, linkType, ifIndex);
      const i = flowOf.length;
      const pkt = p.pkt;
      const f = cur as Flow | null;
      if (f !== null) {
        flowOf.push(f.flowId);
        dirOf.push(table.lastDirection);
        flowObjs.set(f.flowId, f);
        const total = f.bytesToServer + f.bytesToClient;
        bytesOf.push(total - (bytesSeen.get(f) ?? 0));
        bytesSeen.set(f, total);
      } else {
        flowOf.push(-1);
        dirOf.push(0);
        bytesOf.push(0);
      }
      protoOf.push(pkt.ipVersion !== 0 ? pkt.proto : 0);
      fragOf.push(pkt.isFragment && !pkt.reassembled ? 1 : 0);
      if (pkt.eventCount > 0) {
        const names: string[] = [];
        for (let k = 0; k < pkt.eventCount; k++) names.push(DECODER_EVENT_NAMES[pkt.events[k]] ?? `event#${pkt.events[k]}`);
        eventsOf.set(i, names);
      }
    },
  };
  let refused: string | null = null;
  let refusedCode: string | null = null;
  let truncated = false;
  let corrupt = false;
  let warnings: string[] = [];
  try {
    const s = readCaptureFile(file, sink, { onLinkType: (lt) => assertSupportedLinkType(lt, file) });
    truncated = s.truncated;
    corrupt = s.corrupt;
    warnings = s.warnings;
  } catch (e) {
    if (!(e instanceof HarrierError)) throw e;
    refused = `${e.code} ${e.message}`;
    refusedCode = e.code;
    if (e.code === 'HARRIER_ERR_LINKTYPE') {
      // The CLI stops here; count the records it did not decode so frames still line up with tshark's.
      let n = 0;
      readCaptureFile(file, {
        frame() {
          n++;
        },
      });
      while (flowOf.length < n) {
        flowOf.push(-1);
        dirOf.push(0);
        protoOf.push(0);
        fragOf.push(0);
        bytesOf.push(0);
      }
    }
  }
  p.finish();
  const flows = new Map<number, HarrierFlow>();
  for (const r of eve.out) {
    if (r.event_type !== 'flow') continue;
    const id = r.flow_id as number;
    const fl = r.flow as Record<string, number | string>;
    const obj = flowObjs.get(id);
    const proto = obj?.proto ?? 0;
    const client = endpoint(String(r.src_ip), Number(r.src_port ?? 0));
    const server = endpoint(String(r.dest_ip), Number(r.dest_port ?? 0));
    flows.set(id, {
      flowId: id,
      proto,
      client,
      server,
      key: convKey(proto, client, server),
      pktsToServer: Number(fl.pkts_toserver),
      pktsToClient: Number(fl.pkts_toclient),
      bytesToServer: Number(fl.bytes_toserver),
      bytesToClient: Number(fl.bytes_toclient),
      state: String(fl.state),
      vlan: vlanText(r.vlan),
      tunnel: obj !== undefined && obj.tunnel !== 0,
      first: obj !== undefined ? obj.startSec + obj.startNsec / 1e9 : 0,
      last: obj !== undefined ? obj.lastSec + obj.lastNsec / 1e9 : 0,
    });
  }
  return {
    file,
    records: flowOf.length,
    truncated,
    corrupt,
    warnings,
    refused,
    refusedCode,
    flowOf: Float64Array.from(flowOf),
    dirOf: Uint8Array.from(dirOf),
    protoOf: Uint8Array.from(protoOf),
    fragOf: Uint8Array.from(fragOf),
    bytesOf: Float64Array.from(bytesOf),
    eventsOf,
    flows,
  };
}
