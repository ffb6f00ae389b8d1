/**
 * The one alert path every detector uses (signatures, intel, behaviour).
 *
 * A detector says *what* it saw (an AlertInfo: ids, message, category,
 * severity, metadata) and *where* (an AlertSite: flow, direction, packet,
 * transaction); this module builds the EVE `alert` record the same way for
 * all of them, so a responder always gets both endpoints (and, through the
 * pipeline's enriching sink, both Kubernetes identities), the transaction's
 * L7 object, the flow's counters, and the path of the flow's pcap.
 *
 * Field names are Suricata 7's (`alert.action`, `gid`, `signature_id`,
 * `rev`, `signature`, `category`, `severity`, `metadata`; `app_proto`,
 * `direction`, `flow{…}`, `payload`, `capture_file`). Detector-specific
 * values that Suricata's schema has no field for (intel feed, behaviour
 * baseline and observed value) go in `alert.metadata`, which the schema
 * leaves open; values there are arrays of strings as Suricata writes them.
 *
 * Harrier's own generator ids (gid) — rule files use gid 1 unless they say
 * otherwise: see HARRIER_GID.
 */
import type { Flow } from '../flow/flow.js';
import type { Packet } from '../decode/packet.js';
import type { AppTx, Direction } from '../applayer/parser.js';
import type { EveSink } from '../output/eve-writer.js';
import type { FlowPcapRecorder } from '../output/flow-pcap.js';
import type { Counters } from '../events/stats.js';
import { eveTimestamp, ipv4ToString, ipv6ToString, protoName } from '../events/format.js';
import { addAppProto, flowClientIp, flowServerIp } from '../events/flow-event.js';

/** Generator ids of Harrier's own detectors (documented in docs/reference/eve.md). */
export const HARRIER_GID = {
  /** Threat-intelligence matches. */
  INTEL: 9000001,
  /** Behaviour detectors and baseline anomalies. */
  BEHAVIOUR: 9000002,
} as const;

export interface AlertInfo {
  /** `allowed` (IDS) unless a future inline mode blocks. */
  action?: 'allowed' | 'blocked';
  gid: number;
  sid: number;
  rev: number;
  signature: string;
  category: string;
  /** 1 (high) … 4 (low), as Suricata's priority. */
  severity: number;
  metadata?: Record<string, string[]>;
  /**
   * The rule's `target:` keyword: which endpoint of the record is the
   * target. The alert then carries `alert.source` and `alert.target`
   * (`{ip, port}`), as Suricata writes them.
   */
  target?: 'src_ip' | 'dest_ip';
}

/** Where the alert was raised. */
export interface AlertSite {
  /** The flow, or null for packets without one and for alerts about a host (scans). */
  flow: Flow | null;
  /** Direction of the triggering packet/transaction within the flow; the record's src/dest follow it, as in Suricata. */
  dir: Direction;
  /** Packet time of the alert. */
  tsSec: number;
  tsNsec: number;
  /** The transaction that matched: its EVE object is attached (`http`, `dns`, `tls`, …) with `tx_id`. */
  tx?: AppTx | null;
  /** Bytes to show as `payload` (base64) and `payload_printable` when payload logging is on. */
  payload?: { buf: Buffer; off: number; len: number } | null;
  /** Whether the payload came from the reassembled stream (EVE `stream: 1`). */
  fromStream?: boolean;
  /**
   * Endpoints when there is no flow (a scan from one source to many hosts):
   * text addresses, ports optional.
   */
  endpoints?: { srcIp: string; srcPort?: number; destIp: string; destPort?: number; proto: number };
  /** The packet, for flow-less alerts raised on one packet (its addresses are used). */
  pkt?: Packet | null;
}

export interface AlertPathOptions {
  /** Log `payload`/`payload_printable` (Suricata's `payload: yes`, `payload-printable: yes`). Default true. */
  payload?: boolean;
  /** Bytes of payload logged at most. Default 4096. */
  payloadMax?: number;
  /** Per-flow pcap recorder; when absent alerts carry no `capture_file`. */
  pcap?: FlowPcapRecorder | null;
}

function printable(buf: Buffer, off: number, len: number): string {
  let s = '';
  for (let i = off; i < off + len; i++) {
    const c = buf[i];
    s += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : c === 0x0a || c === 0x0d ? String.fromCharCode(c) : '.';
  }
  return s;
}

export class AlertPath {
  private readonly payload: boolean;
  private readonly payloadMax: number;
  private readonly pcap: FlowPcapRecorder | null;
  private alerts = 0;
  private readonly byGid = new Map<number, number>();
  /**
   * Number (1-based, in input order) of the packet being processed, written
   * as EVE `pcap_cnt` as Suricata does; 0 outside a packet (flow timeouts,
   * end of input — Suricata's pseudo packets), when the field is left out.
   * The pipeline sets it per frame: detectors' stream and tx hooks run while
   * the packet is parsed, before they could be told its number.
   */
  packetNumber = 0;
  /**
   * Set by the pipeline while flows end outside a packet (timeouts, end of
   * input): alerts raised then have `pkt_src` "stream (flow timeout)", as
   * Suricata's pseudo packets.
   */
  flowTimeout = false;

  constructor(
    private readonly write: ((record: Record<string, unknown>) => void) | null,
    opts: AlertPathOptions = {},
  ) {
    this.payload = opts.payload !== false;
    this.payloadMax = opts.payloadMax ?? 4096;
    this.pcap = opts.pcap ?? null;
  }

  /** Raise one alert. Dedupe and thresholds are the detector's business (it knows what "the same" means). */
  raise(info: AlertInfo, site: AlertSite): void {
    this.alerts++;
    this.byGid.set(info.gid, (this.byGid.get(info.gid) ?? 0) + 1);
    const flow = site.flow;
    if (flow !== null) flow.alerted = true;
    // The pcap is started even without an EVE sink: the file is evidence in its own right.
    const captureFile = flow !== null && this.pcap !== null ? this.pcap.alerted(flow) : null;
    if (this.write === null) return;

    const rec: Record<string, unknown> = { timestamp: eveTimestamp(site.tsSec, site.tsNsec) };
    if (flow !== null) {
      rec.flow_id = flow.flowId;
      if (this.packetNumber > 0) rec.pcap_cnt = this.packetNumber;
      rec.event_type = 'alert';
      if (flow.vlanCount > 0) rec.vlan = flow.vlanCount > 1 ? [flow.vlan0, flow.vlan1] : [flow.vlan0];
      const client = flowClientIp(flow);
      const server = flowServerIp(flow);
      const icmp = flow.proto === 1 || flow.proto === 58;
      if (site.dir === 0) {
        rec.src_ip = client;
        if (!icmp) rec.src_port = flow.clientPort;
        rec.dest_ip = server;
        if (!icmp) rec.dest_port = flow.serverPort;
      } else {
        rec.src_ip = server;
        if (!icmp) rec.src_port = flow.serverPort;
        rec.dest_ip = client;
        if (!icmp) rec.dest_port = flow.clientPort;
      }
      rec.proto = protoName(flow.proto);
    } else {
      const n = site.pkt ? site.pkt.num : this.packetNumber;
      if (n > 0) rec.pcap_cnt = n;
      rec.event_type = 'alert';
      const ep = site.endpoints ?? (site.pkt ? packetEndpoints(site.pkt) : null);
      if (ep) {
        rec.src_ip = ep.srcIp;
        if (ep.srcPort !== undefined) rec.src_port = ep.srcPort;
        rec.dest_ip = ep.destIp;
        if (ep.destPort !== undefined) rec.dest_port = ep.destPort;
        rec.proto = protoName(ep.proto);
      }
    }
    // Suricata's ICMP packet fields: type and code of the alerted packet.
    const ip = site.pkt;
    if (ip && (ip.proto === 1 || ip.proto === 58) && ip.icmpType >= 0) {
      rec.icmp_type = ip.icmpType;
      rec.icmp_code = ip.icmpCode;
    }
    rec.pkt_src = this.flowTimeout && site.pkt == null ? 'stream (flow timeout)' : 'wire/pcap';
    if (site.tx) rec.tx_id = site.tx.txId;
    const alert: Record<string, unknown> = {
      action: info.action ?? 'allowed',
      gid: info.gid,
      signature_id: info.sid,
      rev: info.rev,
      signature: info.signature,
      category: info.category,
      severity: info.severity,
    };
    if (info.target !== undefined && typeof rec.src_ip === 'string' && typeof rec.dest_ip === 'string') {
      const src: Record<string, unknown> = { ip: rec.src_ip };
      if (typeof rec.src_port === 'number') src.port = rec.src_port;
      const dst: Record<string, unknown> = { ip: rec.dest_ip };
      if (typeof rec.dest_port === 'number') dst.port = rec.dest_port;
      // target:dest_ip — the record's destination is attacked; target:src_ip — its source.
      alert.source = info.target === 'dest_ip' ? src : dst;
      alert.target = info.target === 'dest_ip' ? dst : src;
    }
    if (info.metadata && Object.keys(info.metadata).length > 0) alert.metadata = info.metadata;
    rec.alert = alert;
    if (flow !== null) {
      addAppProto(rec, flow); // app_proto (+ _ts/_tc/_orig), as Suricata's EveAddAppProto
      rec.direction = site.dir === 0 ? 'to_server' : 'to_client';
      rec.flow = {
        pkts_toserver: flow.pktsToServer,
        pkts_toclient: flow.pktsToClient,
        bytes_toserver: flow.bytesToServer,
        bytes_toclient: flow.bytesToClient,
        start: eveTimestamp(flow.startSec, flow.startNsec),
        src_ip: flowClientIp(flow),
        dest_ip: flowServerIp(flow),
        // ports only where the protocol has them (ESP flows keep their SPI in the port slots)
        ...(flow.proto === 6 || flow.proto === 17 || flow.proto === 132 ? { src_port: flow.clientPort, dest_port: flow.serverPort } : {}),
      };
    }
    if (site.tx) {
      try {
        rec[site.tx.proto] = site.tx.eve();
      } catch {
        // A transaction that cannot render is not worth losing the alert over.
      }
    }
    if (this.payload && site.payload) {
      const p = site.payload;
      if (p.len > 0) {
        const len = Math.min(p.len, this.payloadMax);
        rec.payload = p.buf.toString('base64', p.off, p.off + len);
        rec.payload_printable = printable(p.buf, p.off, len);
      }
      // Suricata writes `stream` with payload logging on, also for an empty payload.
      rec.stream = site.fromStream ? 1 : 0;
    }
    if (captureFile !== null) rec.capture_file = captureFile;
    this.write(rec);
  }

  counters(): Counters {
    const out: Counters = { 'detect.alert': this.alerts };
    for (const [gid, n] of this.byGid) out[`harrier.detect.alerts_by_gid.${gid}`] = n;
    return out;
  }
}

/** Addresses of a decoded packet as EVE text (for alerts on packets without a flow). */
export function packetEndpoints(pkt: Packet): { srcIp: string; srcPort?: number; destIp: string; destPort?: number; proto: number } {
  const v6 = pkt.ipVersion === 6;
  const srcIp = v6 ? ipv6ToString(pkt.src6) : ipv4ToString(pkt.src4);
  const destIp = v6 ? ipv6ToString(pkt.dst6) : ipv4ToString(pkt.dst4);
  const ports = pkt.proto === 6 || pkt.proto === 17;
  return ports ? { srcIp, srcPort: pkt.sport, destIp, destPort: pkt.dport, proto: pkt.proto } : { srcIp, destIp, proto: pkt.proto };
}
