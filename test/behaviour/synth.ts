/**
 * Synthetic traffic for the behaviour detector tests: hand-built Ethernet
 * frames (test/decode/build.ts) pushed through the real Pipeline with the
 * behaviour Detector added, so a test exercises decode → flow → stream →
 * app layer → detector → reporter → EVE exactly as a capture would.
 * Time is explicit (seconds, fractional allowed) on every call.
 */
import { eth, icmp4, ipv4, tcp, udp } from '../decode/build.js';
import { EveCollector } from '../../src/output/eve-writer.js';
import { defaultConfig, applyConfig, type HarrierConfig } from '../../src/sensor/config.js';
import { Pipeline } from '../../src/sensor/pipeline.js';
import { createBehaviour, SIDS, type BehaviourDetector } from '../../src/detect/behaviour/index.js';
import { encodeDnsMessage } from '../../src/applayer/dns/index.js';
import type { K8sEnricher } from '../../src/k8s/enrich.js';

export const T0 = 1_700_000_000;

const SYN = 0x02;
const ACK = 0x10;
const RST = 0x04;
const FIN = 0x01;
const PSH = 0x08;

export class Synth {
  readonly eve = new EveCollector();
  readonly cfg: HarrierConfig;
  readonly pipeline: Pipeline;
  readonly behaviour: BehaviourDetector;
  private ipId = 1;

  /** `behaviour`: the YAML `behaviour:` block as an object (thresholds for the test). */
  constructor(behaviour: Record<string, unknown> = {}, k8s?: K8sEnricher) {
    this.cfg = applyConfig({ behaviour }, defaultConfig());
    this.pipeline = new Pipeline(this.cfg, { eve: this.eve, ...(k8s ? { k8s } : {}) });
    this.behaviour = createBehaviour(this.cfg, this.pipeline.alerts, k8s ? { k8s } : {});
    this.pipeline.addDetector(this.behaviour);
  }

  private push(frame: Buffer, t: number): void {
    const sec = Math.floor(t);
    const nsec = Math.round((t - sec) * 1e9);
    this.pipeline.frame(frame, 0, frame.length, frame.length, sec, nsec, 1, 0);
  }

  tcpPkt(src: string, dst: string, sport: number, dport: number, flags: number, t: number, o: { seq?: number; ack?: number; payload?: Buffer } = {}): void {
    const seg = tcp({ src, dst, sport, dport, flags, seq: o.seq ?? 1000, ack: o.ack ?? 0, payload: o.payload });
    this.push(eth(0x0800, ipv4({ src, dst, proto: 6, id: this.ipId++ & 0xffff, payload: seg })), t);
  }

  udpPkt(src: string, dst: string, sport: number, dport: number, payload: Buffer, t: number): void {
    this.push(eth(0x0800, ipv4({ src, dst, proto: 17, id: this.ipId++ & 0xffff, payload: udp({ src, dst, sport, dport, payload }) })), t);
  }

  icmpEcho(src: string, dst: string, id: number, seq: number, payload: Buffer, t: number, reply = false): void {
    const rest = Buffer.alloc(4);
    rest.writeUInt16BE(id, 0);
    rest.writeUInt16BE(seq, 2);
    this.push(eth(0x0800, ipv4({ src, dst, proto: 1, id: this.ipId++ & 0xffff, payload: icmp4(reply ? 0 : 8, 0, Buffer.concat([rest, payload])) })), t);
  }

  /** A SYN answered by RST/ACK (closed port). */
  closedPort(src: string, dst: string, sport: number, dport: number, t: number): void {
    this.tcpPkt(src, dst, sport, dport, SYN, t, { seq: 100 });
    this.tcpPkt(dst, src, dport, sport, RST | ACK, t + 0.001, { seq: 0, ack: 101 });
  }

  /**
   * A whole TCP session: handshake, then the messages in order (each from
   * the client when `c`, else from the server), then FIN/ACK both ways.
   */
  session(client: string, server: string, sport: number, dport: number, t: number, msgs: { c: boolean; data: string | Buffer }[], opts: { close?: boolean } = {}): number {
    let cs = 1000;
    let ss = 5000;
    let now = t;
    const step = (): number => (now += 0.001);
    this.tcpPkt(client, server, sport, dport, SYN, now, { seq: cs - 1 });
    this.tcpPkt(server, client, dport, sport, SYN | ACK, step(), { seq: ss - 1, ack: cs });
    this.tcpPkt(client, server, sport, dport, ACK, step(), { seq: cs, ack: ss });
    for (const m of msgs) {
      const b = typeof m.data === 'string' ? Buffer.from(m.data, 'latin1') : m.data;
      if (m.c) {
        this.tcpPkt(client, server, sport, dport, PSH | ACK, step(), { seq: cs, ack: ss, payload: b });
        cs += b.length;
        this.tcpPkt(server, client, dport, sport, ACK, step(), { seq: ss, ack: cs });
      } else {
        this.tcpPkt(server, client, dport, sport, PSH | ACK, step(), { seq: ss, ack: cs, payload: b });
        ss += b.length;
        this.tcpPkt(client, server, sport, dport, ACK, step(), { seq: cs, ack: ss });
      }
    }
    if (opts.close !== false) {
      this.tcpPkt(client, server, sport, dport, FIN | ACK, step(), { seq: cs, ack: ss });
      this.tcpPkt(server, client, dport, sport, FIN | ACK, step(), { seq: ss, ack: cs + 1 });
      this.tcpPkt(client, server, sport, dport, ACK, step(), { seq: cs + 1, ack: ss + 1 });
    }
    return now;
  }

  dnsQuery(src: string, dst: string, sport: number, id: number, name: string, type: number, t: number): void {
    const q = encodeDnsMessage({ id, rd: true, questions: [{ name, type, class: 1 }] });
    this.udpPkt(src, dst, sport, 53, q, t);
  }

  /** End of input; returns the behaviour alerts (EVE records). */
  finish(): Record<string, unknown>[] {
    this.pipeline.finish();
    return this.alerts();
  }

  /** Alerts of the detectors needing no baseline (the sid table; baseline anomalies are left out). */
  alerts(): Record<string, unknown>[] {
    return this.eve.out.filter((r) => r.event_type === 'alert' && (r.alert as { gid: number }).gid === 9000002 && (meta(r, 'harrier_detector') ?? '') in SIDS);
  }
}

/** metadata value of an alert record. */
export function meta(a: Record<string, unknown>, key: string): string | undefined {
  const m = (a.alert as { metadata?: Record<string, string[]> }).metadata;
  return m?.[key]?.[0];
}

export function detectorsOf(alerts: Record<string, unknown>[]): string[] {
  return alerts.map((a) => meta(a, 'harrier_detector') ?? '?');
}
