/**
 * The sensor pipeline for one input: capture → decode → flow → stream →
 * application layer → EVE (with Kubernetes identity when an enricher is given).
 *
 * It is the `FrameSink` a capture reader pushes frames into. Everything per
 * packet runs synchronously on one reused `Packet`; time is packet time (the
 * capture's clock), so replaying a capture gives the same flows, timeouts and
 * stats as seeing it live. Periodic work (flow and fragment expiry, stats
 * records) runs when packet time crosses a whole second.
 */
import type { FrameSink } from '../capture/frame.js';
import { Decoder } from '../decode/decoder.js';
import { Packet } from '../decode/packet.js';
import type { Flow, FlowEndReason } from '../flow/flow.js';
import { FlowTable } from '../flow/table.js';
import { TcpReassembler, type StreamSink } from '../stream/reassembler.js';
import { flowClientIp, flowRecord, flowServerIp } from '../events/flow-event.js';
import { eveStatsRecord, mergeCounters, type Counters } from '../events/stats.js';
import type { EveSink } from '../output/eve-writer.js';
import { AppLayer } from '../applayer/stage.js';
import { appParsers, validateParsers } from '../applayer/registry.js';
import { DnsAnswerTable, DnsTx } from '../applayer/dns/index.js';
import type { FlowTimeouts as ConfigTimeouts, HarrierConfig } from './config.js';
import { enrichRecord, type K8sEnricher } from '../k8s/enrich.js';
import type { FlowTimeouts } from '../flow/config.js';
import type { Detector } from '../detect/detector.js';
import { AlertPath, type AlertPathOptions } from '../detect/alert.js';
import { FlowPcapRecorder, type FlowPcapOptions } from '../output/flow-pcap.js';
import type { DetectEngineInfo } from '../detect/engine/reload.js';

/** The configuration file's per-protocol timeout blocks in the flow table's terms. */
function flowTimeouts(t: ConfigTimeouts): FlowTimeouts {
  return {
    new: t.default.new,
    established: t.default.established,
    closed: t.default.closed,
    tcpNew: t.tcp.new,
    tcpEstablished: t.tcp.established,
    tcpClosed: t.tcp.closed,
    udpNew: t.udp.new,
    udpEstablished: t.udp.established,
    icmpNew: t.icmp.new,
    icmpEstablished: t.icmp.established,
  };
}

export interface PipelineOutputs {
  /** Where EVE records go; none means count only. */
  eve?: EveSink;
  /** Extra consumer of reassembled TCP data (tests, tools). */
  stream?: StreamSink;
  /** Run the application-layer stage (default true); off measures the stages before it. */
  appLayer?: boolean;
  /** Adds the `k8s` identity block to every EVE record with src_ip/dest_ip. */
  k8s?: K8sEnricher;
  /** Write a pcap per alerted flow into this folder (see output/flow-pcap.ts). */
  alertPcap?: FlowPcapOptions;
  /** Alert record options (payload logging). */
  alert?: Omit<AlertPathOptions, 'pcap'>;
}

/** The one place records are written: with an enricher, each gets its `k8s` block on the way out. */
function enrichingSink(sink: EveSink, k8s: K8sEnricher): EveSink {
  return {
    write(record: object): void {
      enrichRecord(k8s, record as Record<string, unknown>);
      sink.write(record);
    },
    close: () => sink.close(),
    get records() {
      return sink.records;
    },
  };
}

export class Pipeline implements FrameSink {
  readonly pkt = new Packet();
  readonly decoder: Decoder;
  readonly flows: FlowTable;
  readonly streams: TcpReassembler;
  readonly app: AppLayer;
  /** Per-client IP → name resolutions learned from DNS answers (for enrichment). */
  readonly dnsAnswers = new DnsAnswerTable();
  private readonly eve: EveSink | undefined;
  private readonly k8s: K8sEnricher | undefined;
  private readonly statsInterval: number;
  /** The alert path every detector raises through. */
  readonly alerts: AlertPath;
  private readonly pcap: FlowPcapRecorder | null;
  private readonly detectors: Detector[] = [];
  // Hook lists built once so the per-packet path skips detectors without that hook.
  private packetHooks: Detector[] = [];
  private streamHooks: Detector[] = [];
  private txHooks: Detector[] = [];
  private eventHooks: Detector[] = [];
  private nextTick = 0;
  private nextStats = 0;
  private nextDnsPrune = 0;
  private firstSec = -1;
  private readonly startedAt = process.hrtime.bigint();
  /** Counters kept here (Harrier names; Suricata names where they exist). */
  packets = 0;
  bytes = 0;
  streamBytes = 0;
  streamGaps = 0;
  flowsByProto = new Map<number, number>();
  flowRecords = 0;

  constructor(readonly cfg: HarrierConfig, out: PipelineOutputs = {}) {
    this.eve = out.eve && out.k8s ? enrichingSink(out.eve, out.k8s) : out.eve;
    this.k8s = out.k8s;
    this.statsInterval = cfg.eve.statsInterval;
    this.pcap = out.alertPcap ? new FlowPcapRecorder(out.alertPcap) : null;
    this.alerts = new AlertPath(this.eve ? (rec) => this.eve!.write(rec) : null, { ...out.alert, pcap: this.pcap });
    this.decoder = new Decoder({
      checksumValidation: cfg.decoder.checksumValidation,
      vxlanPorts: cfg.decoder.vxlanPorts,
      genevePorts: cfg.decoder.genevePorts,
      defrag: { timeout: cfg.defrag.timeout, memcap: cfg.defrag.memcap, maxTrackers: cfg.defrag.maxTrackers },
    });
    this.flows = new FlowTable(
      {
        memcapBytes: cfg.flow.memcap,
        maxFlows: cfg.flow.maxFlows,
        hashSize: cfg.flow.hashSize,
        emergencyRecovery: cfg.flow.emergencyRecovery,
        timeouts: flowTimeouts(cfg.flow.timeouts),
        emergencyTimeouts: flowTimeouts(cfg.flow.emergencyTimeouts),
      },
      { onFlowEnd: (f, reason) => this.flowEnded(f, reason) },
    );
    const parsers = appParsers(cfg.appLayer);
    validateParsers(parsers);
    // Transaction and anomaly records written while a packet is processed carry its number (EVE `pcap_cnt`), as Suricata's.
    const appWrite = (rec: Record<string, unknown>): void => {
      if (this.alerts.packetNumber > 0) rec.pcap_cnt = this.alerts.packetNumber;
      this.eve!.write(rec);
    };
    this.app = new AppLayer(out.appLayer === false ? [] : parsers, this.eve ? appWrite : null, {
      onTx: (flow, tx) => {
        // A response travels to the resolving client: the flow's server side when the flow was first seen from its reply.
        if (tx instanceof DnsTx && tx.isResponse) this.dnsAnswers.addResponse(tx.direction === 0 ? flowServerIp(flow) : flowClientIp(flow), tx.message, tx.tsSec);
        for (const d of this.txHooks) d.tx!(flow, tx);
      },
      onEvent: (flow, name) => {
        for (const d of this.eventHooks) d.appEvent!(flow, name);
      },
    });
    const extra = out.stream;
    this.streams = new TcpReassembler(
      {
        overlapPolicy: cfg.stream.overlapPolicy,
        memcapBytes: cfg.stream.memcap,
        maxSegmentBytesPerStream: cfg.stream.maxBufferedPerStream,
        midstream: cfg.stream.midstream,
      },
      {
        data: (flow, dir, buf, off, len) => {
          this.streamBytes += len;
          this.app.tcpData(flow, dir, buf, off, len);
          for (const d of this.streamHooks) d.stream!(flow, dir, buf, off, len);
          extra?.data(flow, dir, buf, off, len);
        },
        gap: (flow, dir, len) => {
          this.streamGaps++;
          this.app.tcpGap(flow, dir, len);
          extra?.gap(flow, dir, len);
        },
        end: (flow, dir) => extra?.end?.(flow, dir),
      },
    );
    // Segments held for reassembly count against the flow memcap too.
    this.flows.addMemorySource(() => this.streams.memuse);
  }

  /** Add a detector (signatures, intel, behaviour); its hooks run from the next packet on. */
  addDetector(d: Detector): void {
    this.detectors.push(d);
    this.rebuildHooks();
  }

  /**
   * Swap detector `old` for `next` at the same place in the order (rule
   * reload, detect/engine/reload.ts); `next` runs from the next packet on.
   * Returns false (nothing changed) when `old` is not a detector here.
   */
  replaceDetector(old: Detector, next: Detector): boolean {
    const i = this.detectors.indexOf(old);
    if (i < 0) return false;
    this.detectors[i] = next;
    this.rebuildHooks();
    return true;
  }

  /** Remove a detector (its counters go with it); false when it is not here. */
  removeDetector(d: Detector): boolean {
    const i = this.detectors.indexOf(d);
    if (i < 0) return false;
    this.detectors.splice(i, 1);
    this.rebuildHooks();
    return true;
  }

  private rebuildHooks(): void {
    this.packetHooks = this.detectors.filter((x) => x.packet !== undefined);
    this.streamHooks = this.detectors.filter((x) => x.stream !== undefined);
    this.txHooks = this.detectors.filter((x) => x.tx !== undefined);
    this.eventHooks = this.detectors.filter((x) => x.appEvent !== undefined);
  }

  /**
   * Suricata's `stats.detect.engines` array (id, last_reload, rules_loaded,
   * rules_failed), set by whoever owns the signature engine
   * (sensor/analysis.ts). Flat counters cannot hold an array, so it is put
   * into each EVE stats record here.
   */
  detectEngines: (() => DetectEngineInfo[]) | null = null;

  private statsRecord(tsSec: number, tsNsec: number): Record<string, unknown> {
    const rec = eveStatsRecord(this.counters(), tsSec, tsNsec, tsSec - this.firstSec);
    const stats = rec.stats as Record<string, unknown>;
    const detect = stats.detect as Record<string, unknown> | undefined;
    const engines = this.detectEngines?.() ?? [];
    // The engine's flat `detect.engines` count is not Suricata's shape (an array): replace it, or leave it out.
    if (engines.length > 0) stats.detect = { ...detect, engines };
    else if (detect !== undefined) delete detect.engines;
    return rec;
  }

  /**
   * One captured frame. `num`: its number in the whole capture (EVE
   * `pcap_cnt`) when this pipeline sees only a share of the frames (a worker
   * thread, sensor/parallel.ts); 0 (default): frames are numbered here.
   */
  frame(data: Buffer, off: number, capLen: number, origLen: number, tsSec: number, tsNsec: number, linkType: number, ifIndex: number, num = 0): void {
    const pkt = this.pkt;
    pkt.load(data, off, capLen, origLen, tsSec, tsNsec, linkType, ifIndex);
    this.packets++;
    pkt.num = num > 0 ? num : this.packets;
    // No packet number while flows time out (pseudo packets in Suricata): the tick below runs first.
    this.alerts.packetNumber = 0;
    this.alerts.flowTimeout = true;
    this.bytes += capLen;
    if (this.firstSec < 0) {
      this.firstSec = tsSec;
      this.nextTick = tsSec + 1;
      this.nextStats = this.statsInterval > 0 ? tsSec + this.statsInterval : Infinity;
    }
    if (tsSec >= this.nextTick) this.tick(tsSec, tsNsec);
    this.alerts.packetNumber = pkt.num;
    this.alerts.flowTimeout = false;

    if (!this.decoder.decode(pkt)) {
      // As Suricata, packets the decoder stopped on (with events) or holds for
      // reassembly (fragments) are still inspected, without a flow, so that
      // decode-event rules fire on them.
      if (pkt.eventCount > 0 || pkt.isFragment) for (const d of this.packetHooks) d.packet!(pkt, null, 0);
      return;
    }
    const flow = this.flows.handle(pkt);
    if (flow === null) {
      for (const d of this.packetHooks) d.packet!(pkt, null, 0);
      return;
    }
    const dir = this.flows.lastDirection as 0 | 1;
    if (this.pcap !== null) this.pcap.record(flow, pkt);
    this.app.setTime(tsSec, tsNsec);
    if (pkt.proto === 6) this.streams.handle(flow, dir, pkt);
    else if (pkt.proto === 17 && pkt.payloadLen > 0) this.app.udpDatagram(flow, dir, pkt.data, pkt.payloadOff, pkt.payloadLen);
    for (const d of this.packetHooks) d.packet!(pkt, flow, dir);
  }

  /** Once per second of packet time: expire idle state, maybe write stats. */
  private tick(tsSec: number, tsNsec: number): void {
    const now = tsSec + tsNsec / 1e9;
    this.nextTick = tsSec + 1;
    this.decoder.expire(now);
    this.flows.expire(now);
    for (const d of this.detectors) d.tick?.(tsSec);
    // Expired DNS answers are dropped once a minute: the scan is O(entries),
    // and the table is bounded (LRU) in between anyway.
    if (tsSec >= this.nextDnsPrune) {
      this.nextDnsPrune = tsSec + 60;
      this.dnsAnswers.prune(now);
    }
    if (tsSec >= this.nextStats) {
      this.nextStats = tsSec + this.statsInterval;
      this.eve?.write(this.statsRecord(tsSec, tsNsec));
    }
  }

  private flowEnded(f: Flow, _reason: FlowEndReason): void {
    // Order matters: the stream hands over what it still holds, the parser
    // flushes its open transactions, and only then is the flow record written.
    this.app.setTime(f.lastSec, f.lastNsec);
    if (f.proto === 6) this.streams.flowEnded(f);
    this.app.flowEnd(f);
    for (const d of this.detectors) d.flowEnd?.(f);
    this.pcap?.flowEnd(f);
    this.flowsByProto.set(f.proto, (this.flowsByProto.get(f.proto) ?? 0) + 1);
    this.flowRecords++;
    if (this.eve) this.eve.write(flowRecord(f));
  }

  /** End of input: every flow ends (reason `shutdown`), final stats record. */
  finish(): void {
    this.alerts.packetNumber = 0;
    this.alerts.flowTimeout = true;
    this.flows.flushAll();
    for (const d of this.detectors) d.finish?.();
    if (this.eve && this.firstSec >= 0) {
      this.eve.write(this.statsRecord(this.pkt.tsSec, this.pkt.tsNsec));
    }
  }

  /** All counters of every stage, flat, dotted names. */
  counters(): Counters {
    const dns = this.dnsAnswers.stats();
    return mergeCounters(this.decoder.stats(), this.flows.stats(), this.streams.stats(), this.app.stats(), {
      'harrier.stream.bytes_delivered': this.streamBytes,
      'harrier.stream.gaps': this.streamGaps,
      'harrier.dns_answers.entries': dns.entries,
      'harrier.dns_answers.inserted': dns.inserted,
      'harrier.dns_answers.evicted': dns.evicted,
      'harrier.dns_answers.expired': dns.expired,
      ...(this.k8s ? this.k8s.counters() : {}),
    }, this.alerts.counters(), this.pcap ? this.pcap.counters() : {}, ...this.detectors.map((d) => (d.counters ? d.counters() : {})));
  }

  /** Wall-clock seconds since the pipeline was made. */
  elapsed(): number {
    return Number(process.hrtime.bigint() - this.startedAt) / 1e9;
  }
}
