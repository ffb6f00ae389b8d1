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

/**
 * The flow's application-layer protocol fields, as Suricata's EveAddAppProto
 * writes them on flow and alert records: `app_proto`; `app_proto_ts` /
 * `app_proto_tc` when a direction was recognised as something else;
 * `app_proto_orig` when the protocol changed mid-flow (and differs now).
 */
export function addAppProto(rec: Record<string, unknown>, f: Flow): void {
  const ap = f.appProto;
  if (ap) rec.app_proto = ap;
  if (f.appProtoToServer !== null && f.appProtoToServer !== ap) rec.app_proto_ts = f.appProtoToServer;
  if (f.appProtoToClient !== null && f.appProtoToClient !== ap) rec.app_proto_tc = f.appProtoToClient;
  if (f.appProtoOrig !== null && f.appProtoOrig !== ap) rec.app_proto_orig = f.appProtoOrig;
}

/**
 * The reply type Suricata expects for an ICMP query type (ICMPv4GetCounterpart,
 * ICMPv6GetCounterpart), -1 when none: the flow record's `response_icmp_type`
 * is this expectation, fixed when the flow starts, not an observed type.
 */
export function icmpCounterpart(proto: number, type: number): number {
  if (proto === 1) {
    // echo 8/0, timestamp 13/14, information 15/16, address mask 17/18
    switch (type) {
      case 8: return 0;
      case 0: return 8;
      case 13: case 15: case 17: return type + 1;
      case 14: case 16: case 18: return type - 1;
      default: return -1;
    }
  }
  if (proto === 58) {
    // echo 128/129, MLD query/report 130/131, router 133/134, neighbour 135/136,
    // node information 139/140, home agent 144/145, mobile prefix 146/147,
    // certification path 148/149, multicast router 151/152, duplicate address 157/158
    switch (type) {
      case 128: case 130: case 133: case 135: case 139: case 144: case 146: case 148: case 151: case 157:
        return type + 1;
      case 129: case 131: case 134: case 136: case 140: case 145: case 147: case 149: case 152: case 158:
        return type - 1;
      default: return -1;
    }
  }
  return -1;
}

/** The EVE `flow` record for a flow that has ended. */
export function flowRecord(f: Flow): Record<string, unknown> {
  // Suricata stamps a flow record with the flow's start time.
  const rec = flowHeader(f, 'flow', f.startSec, f.startNsec);
  const p = f.proto;
  if (p !== 6 && p !== 17 && p !== 132) {
    // Suricata's flow header has ports for TCP, UDP and SCTP only
    delete rec.src_port;
    delete rec.dest_port;
  }
  if (p === 50) rec.spi = f.clientPort * 65536 + f.serverPort;
  if (p === 1 || p === 58) {
    if (f.icmpType >= 0) {
      rec.icmp_type = f.icmpType;
      rec.icmp_code = f.icmpCode;
      if (f.pktsToClient > 0) {
        // Suricata keeps 0/0 when the type has no counterpart
        const rt = icmpCounterpart(f.proto, f.icmpType);
        rec.response_icmp_type = rt < 0 ? 0 : rt;
        rec.response_icmp_code = 0;
      }
    }
  }
  addAppProto(rec, f);
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
