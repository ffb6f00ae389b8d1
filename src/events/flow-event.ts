/**
 * The EVE `flow` record: one per flow when it ends, Suricata's field names.
 */
import { Flow, type FlowEndReason } from '../flow/flow.js';
import { eveTimestamp, ipv4ToString, ipv6ToString, protoName } from './format.js';

/** Client address of a flow as EVE text. */
export function flowClientIp(f: Flow): string {
  return f.ipVersion === 6 ? ipv6ToString(f.client6) : ipv4ToString(f.client4);
}

/** Server address of a flow as EVE text. */
export function flowServerIp(f: Flow): string {
  return f.ipVersion === 6 ? ipv6ToString(f.server6) : ipv4ToString(f.server4);
}

function hex2(n: number): string {
  return (n & 0xff).toString(16).padStart(2, '0');
}

/** Suricata spells a memcap eviction as a forced end and marks it `emergency`. */
function reasonName(r: FlowEndReason | null): string {
  if (r === 'memcap') return 'forced';
  return r ?? 'shutdown';
}

/**
 * The fields every flow-scoped record starts with (timestamp, flow_id,
 * addresses, proto, vlan), oriented client → server.
 */
export function flowHeader(f: Flow, eventType: string, tsSec: number, tsNsec: number): Record<string, unknown> {
  const rec: Record<string, unknown> = {
    timestamp: eveTimestamp(tsSec, tsNsec),
    flow_id: f.flowId,
    event_type: eventType,
  };
  if (f.vlanCount > 0) rec.vlan = f.vlanCount > 1 ? [f.vlan0, f.vlan1] : [f.vlan0];
  rec.src_ip = flowClientIp(f);
  rec.src_port = f.clientPort;
  rec.dest_ip = flowServerIp(f);
  rec.dest_port = f.serverPort;
  rec.proto = protoName(f.proto);
  return rec;
}

/** The EVE `flow` record for a flow that has ended. */
export function flowRecord(f: Flow): Record<string, unknown> {
  // Suricata stamps a flow record with the flow's start time.
  const rec = flowHeader(f, 'flow', f.startSec, f.startNsec);
  if (f.proto === 1 || f.proto === 58) {
    delete rec.src_port;
    delete rec.dest_port;
  }
  if (f.appProto) rec.app_proto = f.appProto;
  const flow: Record<string, unknown> = {
    pkts_toserver: f.pktsToServer,
    pkts_toclient: f.pktsToClient,
    bytes_toserver: f.bytesToServer,
    bytes_toclient: f.bytesToClient,
    start: eveTimestamp(f.startSec, f.startNsec),
    end: eveTimestamp(f.lastSec, f.lastNsec),
    age: Math.max(0, f.lastSec - f.startSec),
    state: f.stateName,
    reason: reasonName(f.endReason),
    alerted: f.alerted,
  };
  if (f.endReason === 'memcap') flow.emergency = true;
  rec.flow = flow;
  if (f.proto === 6) {
    const fl = f.tcpFlags;
    const tcp: Record<string, unknown> = {
      tcp_flags: hex2(fl),
      tcp_flags_ts: hex2(f.tcpFlagsToServer),
      tcp_flags_tc: hex2(f.tcpFlagsToClient),
    };
    if (fl & 0x02) tcp.syn = true;
    if (fl & 0x01) tcp.fin = true;
    if (fl & 0x04) tcp.rst = true;
    if (fl & 0x08) tcp.psh = true;
    if (fl & 0x10) tcp.ack = true;
    if (fl & 0x20) tcp.urg = true;
    if (fl & 0x40) tcp.ecn = true;
    if (fl & 0x80) tcp.cwr = true;
    tcp.state = f.tcpStateName;
    rec.tcp = tcp;
  }
  return rec;
}
