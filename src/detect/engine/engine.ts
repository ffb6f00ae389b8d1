/**
 * The signature engine: a Detector that runs a compiled rule set at
 * Suricata's inspection points.
 *
 * - `packet`: every decoded packet, against the packet group of its
 *   protocol/direction/port: header checks and `pkt_data` on the payload.
 * - `stream`: in-order reassembled TCP bytes; TCP rules without app-layer
 *   buffers inspect them too (unless `flow:no_stream`), through a window that
 *   keeps the last STREAM_TAIL bytes of the direction in front of the new
 *   chunk, so a pattern split across segments still matches. The prefilter
 *   only scans where a fast pattern could end inside the new bytes, so a
 *   match wholly inside the kept tail is not found (nor alerted) twice.
 * - `tx`: completed app-layer transactions, against the tx group of their
 *   family and direction, one prefilter per buffer.
 *
 * A rule alerts at most once per packet (stream chunks delivered while a
 * packet is processed belong to that packet) and at most once per
 * transaction. Alerts are raised in evaluation order within each
 * inspection point: pass rules first, flowbits setters before readers, then
 * priority, then file order — Suricata's default order; Suricata sorts a
 * packet's alert queue by that same internal order.
 *
 * IDS semantics of actions: `pass` suppresses the rest of the packet and
 * the flow; `drop`/`reject` alert like `alert`. `tag` needs no work here:
 * the flow pcap recorder already keeps every packet of an alerted flow
 * (from its start while the ring holds it, and after the alert until the
 * flow ends or its limit) — a superset of `tag:session`. `tag:host` is
 * treated the same way (the flow only).
 *
 * The engine keeps no global mutable state outside its own instance: one
 * engine per worker thread works.
 */
import type { Packet } from '../../decode/packet.js';
import type { Flow } from '../../flow/flow.js';
import type { AppTx, Direction } from '../../applayer/parser.js';
import { HttpTx } from '../../applayer/http/tx.js';
import { DnsTx } from '../../applayer/dns/parser.js';
import type { Detector } from '../detector.js';
import type { AlertInfo, AlertPath } from '../alert.js';
import type { Counters } from '../../events/stats.js';
import type { RuleLoadError } from '../rules/ast.js';
import { MatchSet } from './mpm.js';
import { InspectState, runProgram } from './inspect.js';
import { compileRuleSet, RuleKind, StreamMode, type CompiledRule, type CompiledRuleSet, type EngineRules, type TxProgram } from './compile.js';
import { buildGroups, type GroupTables, type PacketGroup, type PacketScan, type Prefilter, type TxGroup } from './groups.js';
import { inPorts, type Endpoints } from './addresses.js';
import { appProtoMatches } from './buffers.js';
import { applyTransforms } from './transforms.js';
import { flowState, peekFlowState, STREAM_TAIL, XbitsTable, type SigFlowState } from './state.js';
import { ThresholdTable } from './threshold.js';
import { TxBufferCache } from './tx-cache.js';
import { appEventFired, noteAppEvent } from './app-events.js';
import { compileThresholdConfig, thresholdEntries, type ThresholdRules } from './threshold-config.js';
import type { ThresholdConfig } from '../rules/config-files.js';

export interface SignatureEngineOptions {
  /** Entries of the threshold table (default 100k). */
  maxThresholdEntries?: number;
  /** Hosts in the xbits table (default 65536). */
  maxXbitHosts?: number;
  /** Inspect reassembled TCP streams (default true). */
  stream?: boolean;
}

/** What loading cost. */
export interface EngineLoadStats {
  rules: number;
  failed: number;
  compileMs: number;
  groupMs: number;
  packetGroups: number;
  txGroups: number;
  patterns: number;
  mpmBytes: number;
}

const EMPTY = Buffer.alloc(0);
/** Stream chunks one packet can hand over before its inspection (its own data plus held data it released). */
const DEFER_MAX = 16;

/** What the engine loads: the front end's RuleSet fits (rules and threshold.config). */
export interface EngineInput extends EngineRules {
  thresholds?: ThresholdConfig;
}

export class SignatureEngine implements Detector {
  readonly name = 'signatures';
  readonly compiled: CompiledRuleSet;
  readonly rules: CompiledRule[];
  readonly loadStats: EngineLoadStats;
  private readonly groups: GroupTables;
  private readonly hits: MatchSet;
  private readonly partHits: MatchSet[];
  private readonly st: InspectState;
  private readonly cands: Int32Array;
  private readonly candMark: Uint32Array;
  private candEpoch = 0;
  /** Per rule: the packet serial it last fired on (once per packet). */
  private readonly fired: Uint32Array;
  private serial = 1;
  private readonly ep: Endpoints = { v6: false, src4: 0, dst4: 0, src6: new Uint32Array(4), dst6: new Uint32Array(4), sport: 0, dport: 0 };
  private readonly thresholds: ThresholdTable;
  private readonly thresholdCfg: ThresholdRules;
  private readonly xbits: XbitsTable;
  private readonly streamOn: boolean;
  private scratch = Buffer.allocUnsafe(64 * 1024);
  /**
   * Stream chunks held until the packet carrying them has been prefiltered.
   * The reassembler hands in-order data over while the pipeline handles the
   * packet, before the packet hook (the app layer must parse first, as in
   * Suricata), so the chunk is inspected at the end of `packet()`, where the
   * packet's prefilter hits can stand in for a scan of the chunk. Later chunks
   * of the same flow direction in that packet (held data the packet released)
   * wait too, to keep stream order. Fixed arrays: no allocation per packet.
   */
  private readonly deferFlow: (Flow | null)[] = new Array<Flow | null>(DEFER_MAX).fill(null);
  private readonly deferBuf: (Buffer | null)[] = new Array<Buffer | null>(DEFER_MAX).fill(null);
  private readonly deferDir = new Uint8Array(DEFER_MAX);
  private readonly deferOff = new Int32Array(DEFER_MAX);
  private readonly deferLen = new Int32Array(DEFER_MAX);
  private deferN = 0;
  /** The pipeline's (reused) Packet and the number of the packet `packet()` last ran for. */
  private pktObj: Packet | null = null;
  private inspectedPkt = -1;
  /** True only while deferred chunks are inspected: the packet's hits are this chunk's. */
  private reuseHits = false;
  private readonly txCache = new TxBufferCache();
  private readonly txFired: Uint32Array;
  private txEpoch = 0;
  private now = 0;
  private nowNsec = 0;
  // counters
  private cPackets = 0;
  private cStreamChunks = 0;
  private cStreamBytes = 0;
  private cTx = 0;
  private cEvaluated = 0;
  private cMatched = 0;
  private cAlerts = 0;
  private cPassed = 0;
  private cSuppressed = 0;

  constructor(ruleSet: EngineInput, private readonly alerts: AlertPath, opts: SignatureEngineOptions = {}) {
    const t0 = performance.now();
    this.compiled = compileRuleSet(ruleSet);
    const t1 = performance.now();
    this.rules = this.compiled.rules;
    this.groups = buildGroups(this.rules);
    const t2 = performance.now();
    const n = this.rules.length;
    this.cands = new Int32Array(n);
    this.candMark = new Uint32Array(n);
    this.fired = new Uint32Array(n);
    this.txFired = new Uint32Array(n);
    this.st = new InspectState(Math.max(this.compiled.maxVars, 1));
    this.thresholds = new ThresholdTable(opts.maxThresholdEntries);
    this.xbits = new XbitsTable(opts.maxXbitHosts);
    this.streamOn = opts.stream !== false;
    this.thresholdCfg = compileThresholdConfig(thresholdEntries(ruleSet.thresholds));
    let maxPat = 0;
    let patterns = 0;
    let mpmBytes = 0;
    let packetGroups = 0;
    const pres: Prefilter[] = [];
    const eachPacketGroup = (g: PacketGroup): void => {
      packetGroups++;
      pres.push(g.pre, g.preHead, g.preAll);
      patterns -= g.preAll.patternCount; // preAll repeats pre + preHead: counted for memory, not as patterns
    };
    for (const pgs of [...this.groups.tcp, ...this.groups.udp]) {
      eachPacketGroup(pgs.any);
      pgs.groups.forEach(eachPacketGroup);
    }
    for (const pair of this.groups.other.values()) pair.forEach(eachPacketGroup);
    this.groups.otherDefault.forEach(eachPacketGroup);
    let txGroups = 0;
    for (const pair of this.groups.tx.values()) {
      for (const g of pair) {
        txGroups++;
        for (const b of g.bufs) pres.push(b.pre);
      }
    }
    for (const p of pres) {
      patterns += p.patternCount;
      mpmBytes += p.patternCount > 0 ? p.mpm.memoryBytes() : 0;
      if (p.patRules.length > maxPat) maxPat = p.patRules.length;
    }
    this.hits = new MatchSet(Math.max(maxPat, 1));
    // A PacketScan has at most 4 parts (any, any-head, port, port-head).
    this.partHits = [0, 1, 2, 3].map(() => new MatchSet(Math.max(maxPat, 1)));
    this.loadStats = {
      rules: n,
      failed: this.compiled.errors.length,
      compileMs: t1 - t0,
      groupMs: t2 - t1,
      packetGroups,
      txGroups,
      patterns,
      mpmBytes,
    };
  }

  /** Rules that did not compile (file, line, sid, reason), for `rules check`. */
  get errors(): RuleLoadError[] {
    return this.compiled.errors;
  }

  // ---------------------------------------------------------------- packets

  packet(pkt: Packet, flow: Flow | null, dir: Direction): void {
    this.pktObj = pkt;
    this.inspectedPkt = pkt.num;
    this.now = pkt.tsSec;
    this.nowNsec = pkt.tsNsec;
    this.cPackets++;
    const fs = flow !== null ? peekFlowState(flow) : null;
    if (fs !== null && fs.encryptFrom !== 0 && fs.encryptFrom !== pkt.num) encryptNow(fs);
    if (fs !== null && fs.pass) {
      this.endPacket();
      return;
    }
    this.packetGroups(pkt.proto, dir, dir === 0 ? pkt.dport : pkt.sport);
    const g1 = this.g1;
    const g2 = this.g2;
    const ipIdx = this.groups.ip;
    if (g1.rules.length === 0 && g2 === null && ipIdx.ruleCount === 0) {
      this.endPacket();
      return;
    }
    // Endpoints of this packet as it travels.
    const ep = this.ep;
    ep.v6 = pkt.ipVersion === 6;
    ep.src4 = pkt.src4;
    ep.dst4 = pkt.dst4;
    if (ep.v6) {
      ep.src6.set(pkt.src6);
      ep.dst6.set(pkt.dst6);
    }
    ep.sport = pkt.sport;
    ep.dport = pkt.dport;
    this.compiled.addresses.next();

    // Ciphertext after a TLS/SSH handshake is not content-inspected (header-only rules still run).
    const payloadLen = fs !== null && fs.encrypted ? 0 : pkt.payloadLen;
    this.candBegin();
    this.candAdd(g1.always);
    if (g2 !== null) this.candAdd(g2.always);
    this.candScanPacket(this.scan, pkt.data, pkt.payloadOff, payloadLen);
    const isTcp = pkt.proto === 6;
    if (isTcp && flow !== null && this.streamOn && payloadLen > 0) this.notePending(flow, dir);
    if (ipIdx.ruleCount > 0) {
      if (pkt.ipVersion === 4) {
        this.candAdd(ipIdx.lookup(pkt.src4));
        this.candAdd(ipIdx.lookup(pkt.dst4));
      } else {
        this.candAdd(ipIdx.lookup6(pkt.src6));
        this.candAdd(ipIdx.lookup6(pkt.dst6));
      }
    }
    const n = this.candEnd();
    for (let k = 0; k < n; k++) {
      const r = this.rules[this.cands[k]!]!;
      if (r.pkt !== null && ((isTcp && r.streamMode === StreamMode.ONLY_STREAM && flow !== null) || payloadLen === 0 && pkt.payloadLen > 0)) continue;
      if (this.fired[r.idx] === this.serial) continue;
      this.cEvaluated++;
      if (!this.matchCommon(r, pkt, flow, dir, pkt.proto)) continue;
      if (r.pkt !== null && !runProgram(r.pkt, pkt.data, pkt.payloadOff, pkt.payloadLen, this.st)) continue;
      if (r.pkt !== null && isTcp && flow !== null && this.streamOn && r.streamMode === StreamMode.BOTH) {
        const pf = flowState(flow).pktFired[dir];
        if (pf.length < 64) pf.push(r.idx);
      }
      if (this.matched(r, flow, dir, null, pkt, { buf: pkt.data, off: pkt.payloadOff, len: pkt.payloadLen }, false)) break;
    }
    this.endPacket();
  }

  /** Inspects the stream chunks this packet delivered (same serial: a rule fires once per packet), then ends the packet. */
  private endPacket(): void {
    if (this.deferN > 0) this.flushDeferred(true);
    this.serial++;
  }

  /** Inspects the waiting stream chunks in order; `reuse`: the current packet has been prefiltered. */
  private flushDeferred(reuse: boolean): void {
    const n = this.deferN;
    this.deferN = 0;
    this.reuseHits = reuse;
    for (let k = 0; k < n; k++) {
      const flow = this.deferFlow[k]!;
      const buf = this.deferBuf[k]!;
      this.deferFlow[k] = null;
      this.deferBuf[k] = null;
      this.inspectStream(flow, this.deferDir[k] as Direction, buf, this.deferOff[k]!, this.deferLen[k]!);
    }
    this.reuseHits = false;
  }

  /** Whether a stream chunk must wait for the end of the current packet's inspection (see `deferFlow`). */
  private mustDefer(flow: Flow, dir: Direction, buf: Buffer, off: number, len: number): boolean {
    const p = this.pktObj;
    if (p === null || this.alerts.flowTimeout || p.num !== this.alerts.packetNumber || this.inspectedPkt === p.num) return false;
    if (buf === p.data && off >= p.payloadOff && off + len <= p.payloadOff + p.payloadLen) return true;
    for (let k = 0; k < this.deferN; k++) if (this.deferFlow[k] === flow && this.deferDir[k] === dir) return true;
    return false;
  }

  /**
   * Sets `g1` to the `any` group of the protocol/direction and `g2` to the
   * port's group (null when the port has none); fields, not a returned pair,
   * so the per-packet path allocates nothing.
   */
  private g1!: PacketGroup;
  private g2: PacketGroup | null = null;
  /** The prefilters of g1 and g2 as one pass. */
  private scan!: PacketScan;
  private packetGroups(proto: number, dir: Direction, port: number): void {
    const g = this.groups;
    if (proto === 6 || proto === 17) {
      const pg = (proto === 6 ? g.tcp : g.udp)[dir];
      const k = pg.byPort[port]!;
      this.g1 = pg.any;
      this.g2 = k === 0 ? null : pg.groups[k]!;
      this.scan = pg.scans[k]!;
      return;
    }
    this.g1 = (g.other.get(proto) ?? g.otherDefault)[dir];
    this.g2 = null;
    this.scan = this.g1.alone;
  }

  // Candidate collection: rules from `always` lists, prefilter hits and the
  // address index, each once (an epoch mark per rule), then sorted into
  // evaluation order. No allocation: `cands` and `candMark` are sized once.
  private candN = 0;
  private candBegin(): void {
    this.candEpoch = (this.candEpoch + 1) >>> 0 || 1;
    this.candN = 0;
  }

  private candAdd(list: Int32Array | null): void {
    if (list === null) return;
    const mark = this.candMark;
    const ep = this.candEpoch;
    const cands = this.cands;
    let n = this.candN;
    for (let j = 0; j < list.length; j++) {
      const r = list[j]!;
      if (mark[r] !== ep) {
        mark[r] = ep;
        cands[n++] = r;
      }
    }
    this.candN = n;
  }

  /** Prefilter buf[off, off+len) and add the rules behind every hit. */
  private candScan(pre: Prefilter, buf: Buffer, off: number, len: number): void {
    if (len <= 0 || pre.patRules.length === 0) return;
    const hits = this.hits;
    hits.reset();
    pre.mpm.scan(buf, off, len, hits);
    const ids = hits.ids;
    const pr = pre.patRules;
    for (let h = 0; h < hits.count; h++) this.candAdd(pr[ids[h]!]!);
  }

  /** Prefilter a packet payload with all its groups' prefilters in one pass, and add the rules behind every hit. */
  private candScanPacket(ps: PacketScan, buf: Buffer, off: number, len: number): void {
    if (len <= 0 || ps.union === null) return;
    const n = ps.pres.length;
    const sets = this.partHits;
    for (let p = 0; p < n; p++) {
      const h = ps.heads[p]!;
      ps.limits[p] = h < 0 || h > len ? len : h;
      sets[p]!.reset();
    }
    ps.union.scan(buf, off, len, ps.limits, sets);
    for (let p = 0; p < n; p++) {
      const hits = sets[p]!;
      const pr = ps.pres[p]!.patRules;
      for (let h = 0; h < hits.count; h++) this.candAdd(pr[hits.ids[h]!]!);
    }
  }

  private candOne(r: number): void {
    if (this.candMark[r] !== this.candEpoch) {
      this.candMark[r] = this.candEpoch;
      this.cands[this.candN++] = r;
    }
  }

  /** Scan only the seam between the kept tail and the new bytes of a stream window. */
  private candSeam(pre: Prefilter, win: Buffer, tailLen: number, total: number): void {
    if (tailLen === 0) return;
    const from = Math.max(0, tailLen - (pre.maxPatLen - 1));
    const to = Math.min(total, tailLen + pre.maxPatLen - 1);
    this.candScan(pre, win, from, to - from);
  }

  /** Packet path, TCP with payload: remember the stream-eligible candidates for the stream chunk that will carry these bytes. */
  private notePending(flow: Flow, dir: Direction): void {
    const fs = flowState(flow);
    const c = fs.pendingPkts[dir];
    if (c < 0) return;
    const pend = fs.pending[dir];
    for (let k = 0; k < this.candN; k++) {
      const r = this.rules[this.cands[k]!]!;
      if (r.pkt === null || r.requirePacket || r.streamMode === StreamMode.NO_STREAM || r.fp === null) continue;
      if (pend.length >= 256) {
        fs.pendingPkts[dir] = -1;
        pend.length = 0;
        return;
      }
      pend.push(r.idx);
    }
    fs.pendingPkts[dir] = c + 1;
  }

  private candEnd(): number {
    const n = this.candN;
    if (n > 1) this.cands.subarray(0, n).sort();
    return n;
  }

  // ----------------------------------------------------------------- stream

  stream(flow: Flow, dir: Direction, buf: Buffer, off: number, len: number): void {
    if (!this.streamOn || len <= 0) return;
    if (this.mustDefer(flow, dir, buf, off, len)) {
      if (this.deferN === DEFER_MAX) {
        // More chunks in one packet than the slots hold (not seen in practice): inspect what waits now,
        // in order, each with a full scan, so nothing is lost or reordered.
        this.flushDeferred(false);
        this.inspectStream(flow, dir, buf, off, len);
        return;
      }
      const k = this.deferN++;
      this.deferFlow[k] = flow;
      this.deferBuf[k] = buf;
      this.deferDir[k] = dir;
      this.deferOff[k] = off;
      this.deferLen[k] = len;
      return;
    }
    this.inspectStream(flow, dir, buf, off, len);
  }

  private inspectStream(flow: Flow, dir: Direction, buf: Buffer, off: number, len: number): void {
    const fs = flowState(flow);
    if (fs.encryptFrom !== 0 && fs.encryptFrom !== this.alerts.packetNumber) encryptNow(fs);
    if (fs.pass || fs.encrypted) return;
    this.now = flow.lastSec;
    this.nowNsec = flow.lastNsec;
    this.packetGroups(6, dir, flow.serverPort);
    const g1 = this.g1;
    const g2 = this.g2;
    const tailLen = fs.tailLen[dir];
    const total = tailLen + len;
    if (this.scratch.length < total) this.scratch = Buffer.allocUnsafe(Math.max(total, this.scratch.length * 2));
    const win = this.scratch;
    const tail = fs.tail[dir];
    if (tail !== null && tailLen > 0) tail.copy(win, 0, 0, tailLen);
    buf.copy(win, tailLen, off, off + len);
    this.cStreamChunks++;
    this.cStreamBytes += len;
    fs.streamBytes[dir] += len;

    if (g1.rules.length > 0 || g2 !== null) {
      this.setFlowEndpoints(flow, dir);
      this.candBegin();
      this.candAdd(g1.alwaysStream);
      if (g2 !== null) this.candAdd(g2.alwaysStream);
      // When the chunk lies in the payload of the packet just prefiltered (chunks wait for the
      // end of packet(), see `deferFlow`), that packet's hits are reused and only the seam with
      // the kept tail is scanned: a fast pattern wholly inside the chunk was found then, one
      // crossing the seam is found here. Otherwise (data of several packets, held data released
      // by a later packet, overflow, flow end) the whole window is scanned, from where a pattern
      // could end inside the new bytes. Measured on public-mix: the TCP payload was scanned
      // twice before this, and the scan was the largest cost.
      const pend = fs.pending[dir];
      if (this.reuseHits && fs.pendingPkts[dir] === 1) {
        for (let j = 0; j < pend.length; j++) this.candOne(pend[j]!);
        this.candSeam(g1.preAll, win, tailLen, total);
        if (g2 !== null) this.candSeam(g2.preAll, win, tailLen, total);
      } else {
        const from1 = Math.max(0, tailLen - (g1.preAll.maxPatLen - 1));
        this.candScan(g1.preAll, win, from1, total - from1);
        if (g2 !== null) {
          const from2 = Math.max(0, tailLen - (g2.preAll.maxPatLen - 1));
          this.candScan(g2.preAll, win, from2, total - from2);
        }
      }
      pend.length = 0;
      fs.pendingPkts[dir] = 0;
      const n = this.candEnd();
      for (let k = 0; k < n; k++) {
        const r = this.rules[this.cands[k]!]!;
        if (r.pkt === null || r.requirePacket || r.streamMode === StreamMode.NO_STREAM) continue;
        if (this.fired[r.idx] === this.serial) continue;
        this.cEvaluated++;
        if (!this.matchCommon(r, null, flow, dir, 6)) continue;
        if (!runProgram(r.pkt, win, 0, total, this.st)) continue;
        // A match ending inside the kept tail was seen with the previous chunk.
        if (tailLen > 0 && this.st.bufferOffset <= tailLen) continue;
        if (fs.pktFired[dir].includes(r.idx)) continue;
          // AlertPath uses the payload synchronously: the scratch window needs no copy.
        if (this.matched(r, flow, dir, null, null, { buf: win, off: 0, len: total }, true)) break;
      }
    }
    if (fs.pktFired[dir].length > 0) fs.pktFired[dir].length = 0;
    // Keep the last bytes for the next chunk.
    const keep = Math.min(STREAM_TAIL, total);
    let t = fs.tail[dir];
    if (t === null) fs.tail[dir] = t = Buffer.allocUnsafe(STREAM_TAIL);
    win.copy(t, 0, total - keep, total);
    fs.tailLen[dir] = keep;
  }

  private setFlowEndpoints(flow: Flow, dir: Direction): void {
    const ep = this.ep;
    ep.v6 = flow.ipVersion === 6;
    if (dir === 0) {
      ep.src4 = flow.client4;
      ep.dst4 = flow.server4;
      if (ep.v6) {
        ep.src6.set(flow.client6);
        ep.dst6.set(flow.server6);
      }
      ep.sport = flow.clientPort;
      ep.dport = flow.serverPort;
    } else {
      ep.src4 = flow.server4;
      ep.dst4 = flow.client4;
      if (ep.v6) {
        ep.src6.set(flow.server6);
        ep.dst6.set(flow.client6);
      }
      ep.sport = flow.serverPort;
      ep.dport = flow.clientPort;
    }
    this.compiled.addresses.next();
  }

  // ------------------------------------------------------------ transactions

  tx(flow: Flow, tx: AppTx): void {
    // The handshake is over: what follows is ciphertext (Suricata 7's default encryption-handling).
    if (tx.proto === 'tls' || tx.proto === 'ssh') {
      const efs = flowState(flow);
      const n = this.alerts.packetNumber;
      if (n > 0 && !efs.encrypted) efs.encryptFrom = n;
      else efs.encrypted = true;
    }
    const fam = tx.proto === 'http2' ? 'http' : tx.proto;
    const pair = this.groups.tx.get(fam);
    if (pair === undefined) return;
    const fs = peekFlowState(flow);
    if (fs !== null && fs.pass) return;
    this.now = flow.lastSec;
    this.nowNsec = flow.lastNsec;
    this.cTx++;
    // Directions this transaction carries.
    let dirs = 3;
    if (tx instanceof HttpTx) dirs = (tx.hasRequest ? 1 : 0) | (tx.hasResponse ? 2 : 0);
    else if (tx instanceof DnsTx) dirs = tx.direction === 0 ? 1 : 2;
    // Buffers read once per transaction: key|dir|idx → bytes.
    const cache = this.txCache;
    cache.begin();
    // Rules fired on this transaction: an epoch mark per rule (no Set per transaction).
    const firedTx = this.txFired;
    const txEpoch = (this.txEpoch = (this.txEpoch + 1) >>> 0 || 1);
    for (let dir: Direction = 0; dir <= 1; dir = (dir + 1) as Direction) {
      if ((dirs & (1 << dir)) === 0) continue;
      const g = pair[dir];
      if (g.rules.length === 0) continue;
      this.setFlowEndpoints(flow, dir);
      const n = this.collectTx(g, tx, dir, cache);
      for (let k = 0; k < n; k++) {
        const r = this.rules[this.cands[k]!]!;
        if (firedTx[r.idx] === txEpoch && !eachDirection(r)) continue;
        this.cEvaluated++;
        if (!this.matchCommon(r, null, flow, dir, flow.proto)) continue;
        let ok = true;
        for (const c of r.txChecks) {
          if (!c(tx, this.now)) {
            ok = false;
            break;
          }
        }
        if (!ok) continue;
        for (const tp of r.tx) {
          if (!this.runTxProgram(tp, tx, dir, cache)) {
            ok = false;
            break;
          }
        }
        if (!ok) continue;
          firedTx[r.idx] = txEpoch;
        if (this.matched(r, flow, dir, tx, null, null, false)) return;
      }
    }
  }

  private txBuffer(tp: { key: string; decl: TxProgram['decl']; transforms: TxProgram['transforms'] }, tx: AppTx, dir: Direction, idx: number, cache: TxBufferCache): Buffer | null {
    let b = cache.get(tp.key, dir, idx);
    if (b === undefined) {
      b = tp.decl.get(tx, dir, idx);
      if (b !== null && tp.transforms.length > 0) b = applyTransforms(tp.transforms, b);
      cache.set(tp.key, dir, idx, b);
    }
    return b;
  }

  private collectTx(g: TxGroup, tx: AppTx, dir: Direction, cache: TxBufferCache): number {
    this.candBegin();
    this.candAdd(g.always);
    const hits = this.hits;
    for (const bf of g.bufs) {
      const side = bf.decl.side === 'request' ? 0 : bf.decl.side === 'response' ? 1 : dir;
      hits.reset();
      for (let idx = 0; ; idx++) {
        const b = this.txBuffer(bf, tx, side, idx, cache);
        if (b === null) break;
        bf.pre.mpm.scan(b, 0, b.length, hits);
        if (!bf.decl.multi) break;
      }
      const pr = bf.pre.patRules;
      for (let h = 0; h < hits.count; h++) this.candAdd(pr[hits.ids[h]!]!);
    }
    return this.candEnd();
  }

  private runTxProgram(tp: TxProgram, tx: AppTx, dir: Direction, cache: TxBufferCache): boolean {
    const side = tp.decl.side === 'request' ? 0 : tp.decl.side === 'response' ? 1 : dir;
    for (let idx = 0; ; idx++) {
      const b = this.txBuffer(tp, tx, side, idx, cache);
      if (b === null) return false;
      if (runProgram(tp.prog, b, 0, b.length, this.st)) return true;
      if (!tp.decl.multi) return false;
    }
  }

  // ---------------------------------------------------------------- matching

  /** Protocol, app protocol, addresses and ports, checks, flowbits/flowint/xbits conditions. */
  private matchCommon(r: CompiledRule, pkt: Packet | null, flow: Flow | null, dir: Direction, proto: number): boolean {
    if (r.ipProto >= 0 ? r.ipProto !== proto : r.ipProto === -2 && proto !== 6 && proto !== 17) return false;
    if (r.appProto !== null && (flow === null || !appProtoMatches(r.appProto, flow.appProto))) return false;
    const h = r.rule.header;
    const at = this.compiled.addresses;
    const ep = this.ep;
    const ports = proto === 6 || proto === 17 || proto === 132;
    let ok = at.has(r.srcSet, 0, ep) && at.has(r.dstSet, 1, ep) && (!ports || (inPorts(h.srcPorts, ep.sport) && inPorts(h.dstPorts, ep.dport)));
    if (!ok && h.bidirectional) {
      ok = at.hasSwapped(r.srcSet, 0, ep) && at.hasSwapped(r.dstSet, 1, ep) && (!ports || (inPorts(h.srcPorts, ep.dport) && inPorts(h.dstPorts, ep.sport)));
    }
    if (!ok) return false;
    const checks = r.checks;
    for (let i = 0; i < checks.length; i++) if (!checks[i]!(pkt, flow, dir)) return false;
    if (r.flowbitsRead.length > 0) {
      const fs = flow !== null ? peekFlowState(flow) : null;
      for (const fb of r.flowbitsRead) {
        let v: boolean;
        if (fb.all) v = fs !== null && fb.ids.every((id) => fs.isSet(id));
        else v = fs !== null && fb.ids.some((id) => fs.isSet(id));
        if (fb.negated) {
          // isnotset a|b: none set; isnotset a&b: not all set
          v = fb.all ? !(fs !== null && fb.ids.every((id) => fs.isSet(id))) : !(fs !== null && fb.ids.some((id) => fs.isSet(id)));
        }
        if (!v) return false;
      }
    }
    if (r.flowints.length > 0 && !this.flowintRead(r, flow)) return false;
    if (r.xbitsRead.length > 0) {
      for (const xb of r.xbitsRead) {
        const set = this.xbits.isSet(this.xbitKey(xb.track), xb.id, this.now);
        if (set === xb.negated) return false;
      }
    }
    return true;
  }

  private flowintRead(r: CompiledRule, flow: Flow | null): boolean {
    const fs = flow !== null ? peekFlowState(flow) : null;
    for (const fi of r.flowints) {
      const cur = fs?.ints?.get(fi.id);
      switch (fi.op) {
        case '=': case '+': case '-':
          continue;
        case 'isset':
          if (cur === undefined) return false;
          continue;
        case 'notset': case 'isnotset':
          if (cur !== undefined) return false;
          continue;
        default: {
          if (cur === undefined) return false;
          const v = fi.valueInt >= 0 ? fs?.ints?.get(fi.valueInt) : fi.value;
          if (v === undefined || v === null) return false;
          const ok = fi.op === '==' ? cur === v : fi.op === '!=' ? cur !== v : fi.op === '<' ? cur < v : fi.op === '<=' ? cur <= v : fi.op === '>' ? cur > v : cur >= v;
          if (!ok) return false;
        }
      }
    }
    return true;
  }

  private xbitKey(track: 'ip_src' | 'ip_dst' | 'ip_pair'): string {
    const ep = this.ep;
    const s = ep.v6 ? Array.from(ep.src6).join(':') : String(ep.src4 >>> 0);
    const d = ep.v6 ? Array.from(ep.dst6).join(':') : String(ep.dst4 >>> 0);
    return track === 'ip_src' ? s : track === 'ip_dst' ? d : s < d ? `${s}-${d}` : `${d}-${s}`;
  }

  /**
   * A rule matched: side effects (flowbits, flowint, xbits), then pass /
   * noalert / thresholds, then the alert. Returns true when a pass rule
   * matched (the caller stops inspecting).
   */
  private matched(
    r: CompiledRule, flow: Flow | null, dir: Direction, tx: AppTx | null, pkt: Packet | null,
    payload: { buf: Buffer; off: number; len: number } | null, fromStream: boolean,
  ): boolean {
    this.cMatched++;
    if (tx === null) this.fired[r.idx] = this.serial;
    if (r.appEvent !== null && flow !== null) appEventFired(flow, r.idx, r.appEvent);
    if (flow !== null && (r.flowbitsWrite.length > 0 || r.flowints.length > 0)) {
      const fs = flowState(flow);
      for (const w of r.flowbitsWrite) for (const id of w.ids) (w.cmd === 'set' ? fs.set(id) : w.cmd === 'unset' ? fs.unset(id) : fs.toggle(id));
      for (const fi of r.flowints) {
        if (fi.op !== '=' && fi.op !== '+' && fi.op !== '-') continue;
        const ints = (fs.ints ??= new Map());
        const v = fi.valueInt >= 0 ? ints.get(fi.valueInt) : fi.value;
        if (v === undefined || v === null) continue;
        const cur = ints.get(fi.id) ?? 0;
        ints.set(fi.id, fi.op === '=' ? v : fi.op === '+' ? cur + v : cur - v);
      }
    }
    for (const xb of r.xbitsWrite) {
      const key = this.xbitKey(xb.track);
      if (xb.cmd === 'set') this.xbits.set(key, xb.id, this.now + xb.expire);
      else if (xb.cmd === 'unset') this.xbits.unset(key, xb.id);
      else if (this.xbits.isSet(key, xb.id, this.now)) this.xbits.unset(key, xb.id);
      else this.xbits.set(key, xb.id, this.now + xb.expire);
    }
    if (r.pass) {
      this.cPassed++;
      if (flow !== null) flowState(flow).pass = true;
      return true;
    }
    if (r.noalert) return false;
    const meta = r.rule.meta;
    // threshold.config: suppress, then its threshold/event_filter (which replaces the rule's own).
    const cfg = this.thresholdCfg.get(meta.gid, meta.sid);
    if (cfg !== null) {
      if (cfg.suppressed(this.ep)) {
        this.cSuppressed++;
        return false;
      }
      if (cfg.threshold !== null && !this.thresholds.threshold(cfg.threshold, this.thresholdKey(r, cfg.threshold.track, flow), this.now)) return false;
    }
    if ((cfg === null || cfg.threshold === null) && r.threshold !== null && !this.thresholds.threshold(r.threshold, this.thresholdKey(r, r.threshold.track, flow), this.now)) return false;
    const df = r.rule.detectionFilter;
    if (df !== null && !this.thresholds.detectionFilter(df, this.thresholdKey(r, df.track, flow), this.now)) return false;
    this.cAlerts++;
    const info: AlertInfo = {
      action: 'allowed',
      gid: meta.gid,
      sid: meta.sid,
      rev: meta.rev,
      signature: meta.msg,
      category: meta.category,
      severity: meta.priority,
      metadata: meta.metadata,
    };
    if (meta.target !== null) info.target = meta.target;
    this.alerts.raise(info, {
      flow,
      dir,
      tsSec: this.now,
      tsNsec: this.nowNsec,
      tx,
      payload,
      fromStream,
      pkt,
    });
    return false;
  }

  private thresholdKey(r: CompiledRule, track: string, flow: Flow | null): string {
    const ep = this.ep;
    const s = ep.v6 ? Array.from(ep.src6).join(':') : String(ep.src4 >>> 0);
    const d = ep.v6 ? Array.from(ep.dst6).join(':') : String(ep.dst4 >>> 0);
    const id = `${r.rule.meta.gid}:${r.rule.meta.sid}`;
    switch (track) {
      case 'by_src': return `${id}|s${s}`;
      case 'by_dst': return `${id}|d${d}`;
      case 'by_both': return `${id}|b${s}-${d}`;
      case 'by_flow': return `${id}|f${flow?.flowId ?? 0}`;
      default: return `${id}|r`;
    }
  }

  // -------------------------------------------------------------- lifecycle

  /** An app-layer event, kept for `app-layer-event`. */
  appEvent(flow: Flow, name: string): void {
    noteAppEvent(flow, name);
  }

  flowEnd(flow: Flow): void {
    const fs = peekFlowState(flow);
    if (fs !== null) {
      fs.tail[0] = fs.tail[1] = null;
    }
  }

  tick(tsSec: number): void {
    this.now = tsSec;
  }

  counters(): Counters {
    return {
      'detect.engines': 1,
      'harrier.detect.rules_loaded': this.rules.length,
      'harrier.detect.rules_failed': this.compiled.errors.length,
      'harrier.detect.packets_inspected': this.cPackets,
      'harrier.detect.stream_chunks': this.cStreamChunks,
      'harrier.detect.stream_bytes': this.cStreamBytes,
      'harrier.detect.tx_inspected': this.cTx,
      'harrier.detect.rules_evaluated': this.cEvaluated,
      'harrier.detect.rules_matched': this.cMatched,
      'harrier.detect.signature_alerts': this.cAlerts,
      'harrier.detect.pass_matched': this.cPassed,
      'harrier.detect.suppressed': this.cSuppressed + this.thresholds.suppressed,
      'harrier.detect.threshold_entries': this.thresholds.size,
      'harrier.detect.threshold_evicted': this.thresholds.evicted,
      'harrier.detect.xbits_hosts': this.xbits.size,
      'harrier.detect.xbits_evicted': this.xbits.evicted,
    };
  }
}

export type { SigFlowState };
void EMPTY;

/**
 * A rule whose buffers exist in both directions (`http.header`,
 * `ssh.software`, …) and that no `flow:` option pins to one is inspected per
 * direction, as Suricata keeps detection state per transaction and
 * direction: it may fire once for the request side and once for the response.
 */
function eachDirection(r: CompiledRule): boolean {
  if (r.txDir !== 2 || r.tx.length === 0) return false;
  for (const t of r.tx) if (t.decl.side !== 'both') return false;
  return true;
}

/** The packet that ended the handshake has been inspected: from now on the flow's payload is ciphertext. */
function encryptNow(fs: SigFlowState): void {
  fs.encrypted = true;
  fs.encryptFrom = 0;
}
