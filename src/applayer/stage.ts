/**
 * The application-layer stage: protocol detection by content, then the
 * detected protocol's parser, fed with reassembled TCP data or UDP datagrams.
 *
 * Detection looks at what each direction sends, never at ports alone: ports
 * only choose which parsers are asked first. While a flow is undecided the
 * first bytes of each direction are copied (up to `probeLimit` per direction)
 * so that, once a parser claims the flow, it sees the conversation from its
 * first byte and in arrival order. A flow whose directions each either said
 * "not mine" to every parser or exceeded the probe limit is `failed`, as
 * Suricata names it. When the two directions point at different protocols,
 * the flow keeps the first one and raises
 * `applayer.mismatch_protocol_both_directions`.
 *
 * Both directions are considered. A TCP flow picked up midstream (no SYN
 * from the side the flow table calls client) may have its roles the wrong
 * way round: when every parser refuses a direction's first bytes as what
 * that side should send, they are asked again as the other side's (an HTTP
 * response, a ServerHello); if one claims them, the flow's directions are
 * swapped for the app layer (`FlowApp.flip`: parsers see `dir ^ flip`, and
 * transaction records name the real client as source). Suricata does the
 * same when detection says the flow is reversed (it swaps the whole flow;
 * here the flow table and the stream keep their own view).
 *
 * A parser may end its protocol in the middle of a flow and ask for
 * detection to run again on what follows (`AppSwitch.redetect`: a 2xx to
 * HTTP CONNECT, PostgreSQL's accepted SSLRequest), as Suricata's
 * AppLayerRequestProtocolChange does; the flow's `app_proto` becomes the new
 * protocol, or stays the old one if nothing is recognised.
 */
import type { Flow } from '../flow/flow.js';
import { flowHeader } from '../events/flow-event.js';
import type { Counters } from '../events/stats.js';
import { Probe, type AppParserContext, type AppParserDecl, type AppTx, type Direction } from './parser.js';

const TCP_SYN = 0x02;

type AnyDecl = AppParserDecl<unknown>;

/** probeAs: some parser needs more bytes to decide. */
const UNDECIDED = 'undecided';

const DETECTING = 0;
const PARSING = 1;
const FAILED = 2;
const ABANDONED = 3;

/** Per-flow app-layer state, kept on `flow.appState`. */
class FlowApp implements AppParserContext {
  status: number = DETECTING;
  decl: AnyDecl | null = null;
  state: unknown = null;
  /** Bytes seen per direction while detecting (bounded by probeLimit). */
  readonly seen: number[] = [0, 0];
  /** Per direction: 0 undecided, 1 said "no" to every parser, 2 claimed by a parser. */
  readonly verdict: number[] = [0, 0];
  /** Chunks copied while detecting, in arrival order. */
  pending: { dir: Direction; data: Buffer }[] = [];
  /** Whether the direction that did not take part in detection was checked for a mismatch. */
  readonly crossChecked = [false, false];
  txCount = 0;
  anomalies = 0;
  /** 1 when the app layer reads the flow reversed (midstream pickup with the roles swapped): parsers see `dir ^ flip`. */
  flip: 0 | 1 = 0;
  /** Reversal is tried at most once per flow, and never after a protocol change. */
  reverseTried = false;
  /** app_proto before a protocol change re-ran detection (kept if nothing is recognised after it); null otherwise. */
  changedFrom: string | null = null;
  constructor(
    readonly stage: AppLayer,
    readonly flow: Flow,
  ) {}
  tx(tx: AppTx): void {
    this.txCount++;
    this.stage.emitTx(this.flow, tx, this.flip);
  }
  event(name: string): void {
    this.stage.emitEvent(this, name);
  }
  abandon(reason: string): void {
    if (this.status === PARSING) {
      this.status = ABANDONED;
      this.stage.count(`harrier.app_layer.abandoned.${this.decl?.name ?? 'unknown'}`);
      this.event(`${this.decl?.name ?? 'applayer'}.abandoned`);
      void reason;
    }
  }
}

export interface AppLayerOptions {
  /** Bytes per direction examined before a flow is declared `failed`. */
  probeLimit: number;
  /** Anomaly records written per flow at most (the rest are only counted). */
  maxAnomaliesPerFlow: number;
  /** Called with every transaction before it is written (e.g. to feed the DNS answer table). */
  onTx?: (flow: Flow, tx: AppTx) => void;
  /** Called with every app-layer event (before the per-flow anomaly-record limit), for rules' `app-layer-event`. */
  onEvent?: (flow: Flow, name: string) => void;
}

/** Suricata's stats name of a protocol on a transport (`dns_udp`, `failed_tcp`, `http`). */
function statsName(proto: string, flowProto: number): string {
  if (proto === 'dns' || proto === 'failed' || proto === 'krb5' || proto === 'nfs' || proto === 'dcerpc' || proto === 'enip') {
    return `${proto}_${flowProto === 17 ? 'udp' : 'tcp'}`;
  }
  return proto;
}

export class AppLayer {
  private readonly tcpParsers: AnyDecl[];
  private readonly udpParsers: AnyDecl[];
  private readonly counters = new Map<string, number>();
  private readonly opts: AppLayerOptions;
  /** Packet time of the data being handled, for the records it produces. */
  private tsSec = 0;
  private tsNsec = 0;

  constructor(
    parsers: readonly AnyDecl[],
    /** Where records go; null: no EVE output, so records are never built (no subscriber, no cost). */
    private readonly write: ((record: Record<string, unknown>) => void) | null,
    opts: Partial<AppLayerOptions> = {},
  ) {
    this.tcpParsers = parsers.filter((p) => p.transport !== 'udp');
    this.udpParsers = parsers.filter((p) => p.transport !== 'tcp');
    this.opts = { probeLimit: 4096, maxAnomaliesPerFlow: 16, ...opts };
  }

  /** Set the packet time that the next records are stamped with. */
  setTime(tsSec: number, tsNsec: number): void {
    this.tsSec = tsSec;
    this.tsNsec = tsNsec;
  }

  count(name: string, by = 1): void {
    this.counters.set(name, (this.counters.get(name) ?? 0) + by);
  }

  private appOf(flow: Flow): FlowApp {
    let app = flow.appState as FlowApp | null;
    if (app === null) {
      app = new FlowApp(this, flow);
      flow.appState = app;
    }
    return app;
  }

  /** In-order TCP bytes of one direction. */
  tcpData(flow: Flow, dir: Direction, buf: Buffer, off: number, len: number): void {
    if (len <= 0) return;
    const app = this.appOf(flow);
    if (app.status === PARSING) {
      if (!app.crossChecked[dir] && app.verdict[dir] === 0) this.crossCheck(app, dir, buf, off, len);
      this.parse(app, dir, buf, off, len);
      return;
    }
    if (app.status !== DETECTING) return;
    if (this.tcpParsers.length === 0) {
      app.status = FAILED;
      return;
    }
    if (app.pending.length === 0 && app.verdict[dir] === 0) {
      // Fast path, the common case: the first bytes of the flow are probed
      // where they lie and, when a parser claims them, parsed without a copy.
      const claimed = this.probeAll(this.tcpParsers, app, dir, buf, off, len, len >= this.opts.probeLimit);
      if (claimed) {
        this.claim(app, claimed, dir);
        this.parse(app, dir, buf, off, len);
        return;
      }
      this.keep(app, dir, buf, off, len);
      if ((app.verdict[dir] as number) === 1) this.settleFailure(app);
      return;
    }
    this.detect(app, dir, buf, off, len, this.tcpParsers);
  }

  /** Bytes lost in one direction of a TCP flow. */
  tcpGap(flow: Flow, dir: Direction, len: number): void {
    const app = flow.appState as FlowApp | null;
    if (app === null) return;
    if (app.status === PARSING && app.decl?.gap) {
      try {
        app.decl.gap(app.state, (dir ^ app.flip) as Direction, len);
      } catch (err) {
        this.parserCrash(app, err);
      }
    } else if (app.status === DETECTING && app.seen[dir] > 0) {
      // A hole inside the bytes being probed: detection cannot go on in this direction.
      app.verdict[dir] = 1;
      this.settleFailure(app);
    }
  }

  /** One UDP datagram's payload. */
  udpDatagram(flow: Flow, dir: Direction, buf: Buffer, off: number, len: number): void {
    if (len <= 0) return;
    const app = this.appOf(flow);
    if (app.status === PARSING) {
      this.parse(app, dir, buf, off, len);
      return;
    }
    if (app.status !== DETECTING) return;
    if (this.udpParsers.length === 0) {
      app.status = FAILED;
      return;
    }
    // Datagrams are whole messages: probe each one as it is, without gathering.
    const claimed = this.probeAll(this.udpParsers, app, dir, buf, off, len, true);
    if (claimed) {
      this.claim(app, claimed, dir);
      this.parse(app, dir, buf, off, len);
    } else {
      app.verdict[dir] = 1;
      app.seen[dir] += len;
      this.settleFailure(app);
    }
  }

  /** The flow is over: flush the parser, settle undecided detection. */
  flowEnd(flow: Flow): void {
    const app = flow.appState as FlowApp | null;
    if (app === null) return;
    if (app.status === PARSING && app.decl?.end) {
      try {
        app.decl.end(app.state);
      } catch (err) {
        this.parserCrash(app, err);
      }
    }
    if (app.status === DETECTING && (app.seen[0] > 0 || app.seen[1] > 0)) this.fail(app);
    app.pending = [];
  }

  private detect(app: FlowApp, dir: Direction, buf: Buffer, off: number, len: number, parsers: AnyDecl[]): void {
    if (app.verdict[dir] !== 0) {
      // This direction already said "no"; keep its bytes only in case the other direction claims the flow.
      this.keep(app, dir, buf, off, len);
      return;
    }
    this.keep(app, dir, buf, off, len);
    const probeBuf = this.directionBytes(app, dir);
    const claimed = this.probeAll(parsers, app, dir, probeBuf, 0, probeBuf.length, app.seen[dir] >= this.opts.probeLimit);
    if (claimed) {
      this.claim(app, claimed, dir);
      const replay = app.pending;
      app.pending = [];
      for (const chunk of replay) {
        if (app.status === PARSING) this.parse(app, chunk.dir, chunk.data, 0, chunk.data.length);
        // the parser handed the flow back to detection (a protocol change): what follows is probed afresh
        else if (app.status === DETECTING) this.tcpData(app.flow, chunk.dir, chunk.data, 0, chunk.data.length);
        else break;
      }
      return;
    }
    // probeAll may just have set this direction's verdict to "no" (TS narrowed it to 0 above).
    if ((app.verdict[dir] as number) === 1) this.settleFailure(app);
  }

  /** Copy a chunk seen during detection, bounded per direction. */
  private keep(app: FlowApp, dir: Direction, buf: Buffer, off: number, len: number): void {
    const room = this.opts.probeLimit - app.seen[dir];
    const take = Math.min(room, len);
    if (take > 0) app.pending.push({ dir, data: Buffer.from(buf.subarray(off, off + take)) });
    app.seen[dir] += len;
  }

  private directionBytes(app: FlowApp, dir: Direction): Buffer {
    const parts = app.pending.filter((c) => c.dir === dir).map((c) => c.data);
    return parts.length === 1 ? parts[0] : Buffer.concat(parts);
  }

  /**
   * Ask each parser about these bytes, port-matching parsers first. Returns
   * the parser that claims them; sets the direction's verdict to "no" when
   * every parser refused (or, with `final`, none could decide). A midstream
   * TCP flow whose direction is refused outright is asked once more with
   * the roles swapped (see the file comment); a claim then flips the flow.
   */
  private probeAll(parsers: AnyDecl[], app: FlowApp, dir: Direction, buf: Buffer, off: number, len: number, final: boolean): AnyDecl | null {
    const r = this.probeAs(parsers, app.flow, (dir ^ app.flip) as Direction, buf, off, len);
    if (r !== null && r !== UNDECIDED) return r;
    if (r === UNDECIDED && !final) return null;
    app.verdict[dir] = 1;
    if (this.reversible(app)) {
      app.reverseTried = true;
      const rev = this.probeAs(parsers, app.flow, (dir ^ app.flip ^ 1) as Direction, buf, off, len);
      if (rev !== null && rev !== UNDECIDED) {
        app.flip ^= 1;
        app.verdict[dir] = 0;
        this.count('harrier.app_layer.reversed');
        return rev;
      }
    }
    return null;
  }

  /** The parser claiming these bytes as sent in parser direction `pdir`; UNDECIDED when some want more; null when all refuse. */
  private probeAs(parsers: AnyDecl[], flow: Flow, pdir: Direction, buf: Buffer, off: number, len: number): AnyDecl | typeof UNDECIDED | null {
    let undecided = false;
    const port = flow.serverPort;
    for (let pass = 0; pass < 2; pass++) {
      for (const p of parsers) {
        const portMatch = p.ports?.includes(port) ?? false;
        if ((pass === 0) !== portMatch) continue;
        let r: Probe;
        try {
          r = p.probe(pdir, buf, off, len);
        } catch {
          this.count(`harrier.app_layer.probe_error.${p.name}`);
          r = Probe.NO;
        }
        if (r === Probe.YES) return p;
        if (r === Probe.NEED_MORE) undecided = true;
      }
    }
    return undecided ? UNDECIDED : null;
  }

  /**
   * Whether a refused direction may be read the other way round: TCP, no
   * SYN seen from the flow's client (picked up midstream, so the flow table
   * guessed the roles from the first packet), the other direction not yet
   * refused, and no reversal or protocol change before.
   */
  private reversible(app: FlowApp): boolean {
    const f = app.flow;
    return f.proto === 6 && !app.reverseTried && app.changedFrom === null && (f.tcpFlagsToServer & TCP_SYN) === 0 && app.verdict[0] + app.verdict[1] <= 1;
  }

  private claim(app: FlowApp, decl: AnyDecl, dir: Direction): void {
    app.status = PARSING;
    app.decl = decl;
    app.verdict[dir] = 2;
    app.crossChecked[dir] = true;
    app.flow.appProto = decl.name;
    this.count(`app_layer.flow.${statsName(decl.name, app.flow.proto)}`);
    try {
      app.state = decl.create(app);
    } catch (err) {
      this.parserCrash(app, err);
    }
  }

  /**
   * The first bytes of the direction that did not decide the protocol: if
   * another parser claims them while ours refuses, the two directions disagree.
   */
  private crossCheck(app: FlowApp, dir: Direction, buf: Buffer, off: number, len: number): void {
    app.crossChecked[dir] = true;
    const decl = app.decl!;
    const pdir = (dir ^ app.flip) as Direction;
    let ours: Probe;
    try {
      ours = decl.probe(pdir, buf, off, len);
    } catch {
      ours = Probe.NO;
    }
    if (ours !== Probe.NO) return;
    const parsers = app.flow.proto === 17 ? this.udpParsers : this.tcpParsers;
    for (const p of parsers) {
      if (p === decl) continue;
      let r: Probe;
      try {
        r = p.probe(pdir, buf, off, len);
      } catch {
        r = Probe.NO;
      }
      if (r === Probe.YES) {
        // EVE app_proto_ts / app_proto_tc (flow orientation, as the record's src/dest)
        if (dir === 0) app.flow.appProtoToServer = p.name;
        else app.flow.appProtoToClient = p.name;
        this.emitEvent(app, 'applayer.mismatch_protocol_both_directions');
        return;
      }
    }
  }

  /** Both directions have refused (or one refused and the other is silent at flow end). */
  private settleFailure(app: FlowApp): void {
    const other0 = app.verdict[0] === 1 || app.seen[0] === 0;
    const other1 = app.verdict[1] === 1 || app.seen[1] === 0;
    if (app.verdict[0] === 1 && app.verdict[1] === 1) this.fail(app);
    else if (app.seen[0] + app.seen[1] >= 2 * this.opts.probeLimit && other0 && other1) this.fail(app);
  }

  private fail(app: FlowApp): void {
    app.status = FAILED;
    app.pending = [];
    if (app.changedFrom !== null) {
      // Nothing recognised after a protocol change (a tunnel of unknown
      // content): as Suricata, app_proto is 'failed' and app_proto_orig
      // keeps what the flow was.
      app.flow.appProto = 'failed';
      this.count('harrier.app_layer.change_unrecognised');
      return;
    }
    app.flow.appProto = 'failed';
    this.count(`app_layer.flow.${statsName('failed', app.flow.proto)}`);
  }

  private parse(app: FlowApp, dir: Direction, buf: Buffer, off: number, len: number): void {
    const decl = app.decl!;
    try {
      decl.parse(app.state, (dir ^ app.flip) as Direction, buf, off, len, this.tsSec);
      if (decl.switchTo !== undefined && app.status === PARSING) {
        const next = decl.switchTo(app.state, app);
        if (next === null) return;
        if ('redetect' in next) {
          this.redetect(app, decl.name, next.handoff);
          return;
        }
        app.decl = next.decl;
        app.flow.appProtoOrig = app.flow.appProto; // EVE app_proto_orig (Suricata: h2c, websocket upgrades)
        app.flow.appProto = next.decl.name;
        app.state = next.start();
        this.count(`harrier.app_layer.switched.${decl.name}_to_${next.decl.name}`);
      }
    } catch (err) {
      this.parserCrash(app, err);
    }
  }

  /**
   * The parser ended its protocol mid-flow without knowing the next one:
   * detection starts again from the bytes after the switch point (those the
   * parser already received are in `handoff`, indexed by parser direction),
   * with fresh per-direction state. The old app_proto stays until a parser
   * claims the flow.
   */
  private redetect(app: FlowApp, from: string, handoff: readonly [Buffer | null, Buffer | null]): void {
    this.count(`harrier.app_layer.switched.${from}_to_detection`);
    app.changedFrom = app.flow.appProto ?? from;
    app.flow.appProtoOrig = app.changedFrom; // EVE app_proto_orig once app_proto differs from it
    app.status = DETECTING;
    app.decl = null;
    app.state = null;
    app.pending = [];
    for (const d of [0, 1] as const) {
      app.verdict[d] = 0;
      app.seen[d] = 0;
      app.crossChecked[d] = false;
    }
    // toServer's held bytes first (sent before the response that switched), then the response's tail
    for (const d of [0, 1] as const) {
      const b = handoff[d ^ app.flip];
      if (b !== null && b.length > 0) this.tcpData(app.flow, d, b, 0, b.length);
    }
  }

  /** A parser threw: a bug, but it must not take the sensor down. Counted, flow abandoned. */
  private parserCrash(app: FlowApp, err: unknown): void {
    this.count(`harrier.app_layer.parser_exception.${app.decl?.name ?? 'unknown'}`);
    if (process.env.HARRIER_DEBUG) process.stderr.write(`harrier: ${app.decl?.name} parser threw: ${String(err)}\n`);
    app.status = ABANDONED;
  }

  /** `app_layer.tx.<name>` counter keys by protocol, [tcp, udp]: built once, not per transaction. */
  private readonly txKeys = [new Map<string, string>(), new Map<string, string>()];

  /** Count and write one transaction; `flip` 1: the app layer reads the flow reversed, so the record's endpoints are swapped once more. */
  emitTx(flow: Flow, tx: AppTx, flip: 0 | 1 = 0): void {
    const keys = this.txKeys[flow.proto === 17 ? 1 : 0];
    let key = keys.get(tx.proto);
    if (key === undefined) {
      key = `app_layer.tx.${statsName(tx.proto, flow.proto)}`;
      keys.set(tx.proto, key);
    }
    this.count(key);
    if (this.write === null) {
      this.opts.onTx?.(flow, tx);
      return;
    }
    const write = this.write;
    const rec = flowHeader(flow, tx.proto, this.tsSec, this.tsNsec);
    if (((tx.dir === 1 ? 1 : 0) ^ flip) === 1) {
      const { src_ip, src_port, dest_ip, dest_port } = rec;
      rec.src_ip = dest_ip;
      rec.src_port = dest_port;
      rec.dest_ip = src_ip;
      rec.dest_port = src_port;
    }
    rec.tx_id = tx.txId;
    rec.app_proto = flow.appProto ?? tx.proto;
    let bodies: Record<string, unknown>[];
    try {
      this.opts.onTx?.(flow, tx);
      bodies = tx.eveRecords ? tx.eveRecords() : [tx.eve()];
    } catch (err) {
      this.count(`harrier.app_layer.eve_exception.${tx.proto}`);
      if (process.env.HARRIER_DEBUG) process.stderr.write(`harrier: ${tx.proto} transaction: ${String(err)}\n`);
      return;
    }
    for (const body of bodies) write({ ...rec, [tx.proto]: body });
  }

  emitEvent(app: FlowApp, name: string): void {
    this.count(`harrier.app_layer.event.${name}`);
    this.opts.onEvent?.(app.flow, name);
    if (app.anomalies >= this.opts.maxAnomaliesPerFlow || this.write === null) return;
    app.anomalies++;
    const rec = flowHeader(app.flow, 'anomaly', this.tsSec, this.tsNsec);
    if (app.flow.appProto) rec.app_proto = app.flow.appProto;
    rec.anomaly = { type: 'applayer', event: name, layer: 'proto_parser', app_proto: app.flow.appProto ?? 'unknown' };
    this.write(rec);
  }

  stats(): Counters {
    return Object.fromEntries(this.counters);
  }
}
