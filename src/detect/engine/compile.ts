/**
 * Rule compilation: every Rule of a RuleSet becomes a CompiledRule (header
 * resolved to numbers and interned address sets, buffer programs compiled by
 * inspect.ts, checks to predicates, flowbit/flowint/xbit names to ids, fast
 * pattern chosen), in the order the engine evaluates them.
 *
 * A rule that fails to compile is reported like a parse failure (file,
 * line, sid, reason) so `harrier rules check` lists it with the others.
 */
import type { Packet } from '../../decode/packet.js';
import type { FlowStreamState } from '../../flow/flow.js';
import { StreamDirection } from '../../stream/direction.js';
import type { AppTx } from '../../applayer/parser.js';
import { DnsTx } from '../../applayer/dns/parser.js';
import { TlsTx } from '../../applayer/tls/tx.js';
import type {
  BufferName, BufferProgram, ContentOp, FlowbitsOp, FlowintOp, PacketCheck, Rule, RuleLoadError, ThresholdSpec, TransformName, XbitsOp,
} from '../rules/ast.js';
import { compileProgram, InspectState, RuleVars, runProgram, type CompiledProgram } from './inspect.js';
import { AddressTable } from './addresses.js';
import { DatasetRegistry } from './datasets.js';
import { bufferDecl, HEADER_SPAN, HTTP_RAW_MESSAGE, packetHeader, type BufferDecl } from './buffers.js';
import { compileCheck, intCmp, type CheckFn } from './checks.js';
import { appEventCheck } from './app-events.js';

/** How TCP rules see payload: both packet and stream (default), only the stream, only packets. */
export const enum StreamMode {
  BOTH = 0,
  ONLY_STREAM = 1,
  NO_STREAM = 2,
}

export const enum RuleKind {
  /** Inspected per packet (header checks, pkt_data) and, for TCP, on the reassembled stream. */
  PACKET = 0,
  /** Inspected per app-layer transaction. */
  TX = 1,
}

/** One app-layer buffer program of a rule. */
export interface TxProgram {
  name: BufferName;
  /** name + transforms: programs with the same key read the same bytes. */
  key: string;
  decl: BufferDecl;
  transforms: TransformName[];
  prog: CompiledProgram;
}

/** Which direction a tx rule is evaluated in: 0 toServer, 1 toClient, 2 either. */
export type TxDir = 0 | 1 | 2;

export interface FastPattern {
  bytes: Uint8Array;
  nocase: boolean;
  /** 'pkt_data' or a TxProgram key. */
  key: string;
  /**
   * The content is anchored (`offset`/`depth`/`startswith`, no
   * `distance`/`within`): it can only occur in the buffer's first `head`
   * bytes; -1 when unanchored.
   */
  head: number;
}

export type TxCheckFn = (tx: AppTx, now: number) => boolean;

export interface CompiledRule {
  /** Evaluation rank (index in the compiled list). */
  idx: number;
  rule: Rule;
  kind: RuleKind;
  /** IP protocol number, -1 for `ip` (every protocol), -2 for TCP-or-UDP app-layer protocols. */
  ipProto: number;
  /** App-layer protocol the flow must have (`http`, `dns`, …), or null. */
  appProto: string | null;
  /** Bit 0: may match toServer packets; bit 1: toClient. */
  dirMask: number;
  srcSet: number;
  dstSet: number;
  pass: boolean;
  streamMode: StreamMode;
  /** Some check needs packet header fields: never inspected on stream data. */
  requirePacket: boolean;
  checks: CheckFn[];
  txChecks: TxCheckFn[];
  pkt: CompiledProgram | null;
  tx: TxProgram[];
  txDir: TxDir;
  /** App-layer family for TX rules (`http`, `dns`, `tls`, `ssh`). */
  txProto: string | null;
  fp: FastPattern | null;
  flowbitsRead: { ids: number[]; all: boolean; negated: boolean }[];
  flowbitsWrite: { cmd: 'set' | 'unset' | 'toggle'; ids: number[] }[];
  /** `valueInt`: the value is another flowint (its id), else -1. */
  flowints: { id: number; op: FlowintOp['op']; value: number | null; valueInt: number }[];
  xbitsRead: { id: number; track: XbitsOp['track']; negated: boolean }[];
  xbitsWrite: { id: number; track: XbitsOp['track']; cmd: 'set' | 'unset' | 'toggle'; expire: number }[];
  threshold: ThresholdSpec | null;
  noalert: boolean;
  vars: RuleVars;
  /** The `app-layer-event` whose occurrences this rule's firing uses up (app-events.ts), or null. */
  appEvent: string | null;
}

export interface CompiledRuleSet {
  rules: CompiledRule[];
  errors: RuleLoadError[];
  addresses: AddressTable;
  flowbitNames: string[];
  flowintNames: string[];
  xbitNames: string[];
  /** Largest number of byte_extract/byte_math variables of one rule. */
  maxVars: number;
}

const PROTO_NUM: Record<string, number> = {
  ip: -1, ipv4: -1, ipv6: -1, pkthdr: -1, tcp: 6, 'tcp-pkt': 6, 'tcp-stream': 6, udp: 17, icmp: 1, icmpv4: 1, icmpv6: 58, sctp: 132,
};
/** App-layer protocols and their transport (-1: TCP or UDP). */
const APP_TRANSPORT: Record<string, number> = {
  http: 6, http1: 6, http2: 6, tls: 6, ssl: 6, ssh: 6, smtp: 6, ftp: 6, 'ftp-data': 6, smb: 6, dcerpc: -1, imap: 6, pop3: 6,
  dns: -1, nfs: -1, krb5: -1, ntp: 17, dhcp: 17, snmp: 17, sip: -1, rdp: 6, rfb: 6, mqtt: 6, modbus: 6, dnp3: 6, enip: -1,
  ike: 17, tftp: 17, quic: 17, pgsql: 6, telnet: 6, irc: 6, bittorrent: -1, 'bittorrent-dht': 17, ldap: -1, websocket: 6, mysql: 6,
  redis: 6, kafka: 6, stratum: 6,
};

/** Bytes that are everywhere in traffic make poor prefilter patterns: they are scored down. */
function patternScore(b: Uint8Array): number {
  let distinct = 0;
  const seen = new Uint8Array(256);
  let common = 0;
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (seen[c] === 0) {
      seen[c] = 1;
      distinct++;
    }
    if (c === 0 || c === 0x20 || c === 0xff || c === 0x0d || c === 0x0a) common++;
  }
  // Length dominates (Suricata picks the longest); repeated and common bytes lower it.
  return Math.min(b.length, 32) * 4 + distinct - common * 2;
}

function chop(c: ContentOp): Uint8Array {
  if (c.fastPatternChop === null) return c.bytes;
  const [o, l] = c.fastPatternChop;
  return c.bytes.subarray(o, Math.min(c.bytes.length, o + l));
}

/** Scratch state of header-buffer checks (packets are inspected one at a time). */
const headerState = new InspectState();

/** Compile one rule; throws Error with a reason. */
function compileRule(rule: Rule, idx: number, ctx: {
  addresses: AddressTable;
  datasets: DatasetRegistry;
  bits: Map<string, number>;
  ints: Map<string, number>;
  xbits: Map<string, number>;
}): CompiledRule {
  const h = rule.header;
  let ipProto = PROTO_NUM[h.proto];
  let appProto: string | null = null;
  if (ipProto === undefined) {
    const t = APP_TRANSPORT[h.proto];
    if (t === undefined) throw new Error(`protocol ${h.proto} is not supported`);
    appProto = h.proto;
    // -2: TCP or UDP (dns, sip, …): port-grouped in both.
    ipProto = t === -1 ? -2 : t;
  }
  const flow = rule.flow;
  let dirMask = 3;
  if (flow?.toServer) dirMask = 1;
  if (flow?.toClient) dirMask = 2;
  const streamMode = flow?.onlyStream || h.proto === 'tcp-stream' ? StreamMode.ONLY_STREAM : flow?.noStream || h.proto === 'tcp-pkt' ? StreamMode.NO_STREAM : StreamMode.BOTH;

  const vars = new RuleVars();
  const checks: CheckFn[] = [];
  if (h.proto === 'ipv4' || h.proto === 'ipv6') {
    // `ipv4`/`ipv6`: any IP protocol, of that IP version only (the packet's, else the flow's).
    const v = h.proto === 'ipv4' ? 4 : 6;
    checks.push((p, fl) => (p !== null ? p.ipVersion : fl !== null ? fl.ipVersion : 0) === v);
  }
  const txChecks: TxCheckFn[] = [];
  let requirePacket = false;
  let txProto: string | null = null;
  if (flow !== null) {
    const f = flow;
    if (f.established || f.notEstablished || f.toServer || f.toClient) {
      checks.push((_p, fl, d) => {
        if (fl === null) return f.stateless && !f.toServer && !f.toClient && !f.established;
        if (f.toServer && d !== 0) return false;
        if (f.toClient && d !== 1) return false;
        if (f.established || f.notEstablished) {
          const est = flowEstablished(fl);
          if (f.established && !est) return false;
          if (f.notEstablished && est) return false;
        }
        return true;
      });
    }
    if (f.onlyFrag || f.noFrag) {
      requirePacket = true;
      checks.push((p) => p !== null && p.reassembled === f.onlyFrag);
    }
  }
  const appEvents: { event: string; negated: boolean }[] = [];
  for (const c of rule.checks) {
    if (c.kind === 'app_layer_event') {
      // Per packet or per flow depends on whether the rule turns out a tx rule (below).
      appEvents.push(c);
      continue;
    }
    const tc = txCheck(c);
    if (tc !== null) {
      txChecks.push(tc.fn);
      txProto = tc.proto;
      continue;
    }
    const cc = compileCheck(c);
    checks.push(cc.fn);
    if (cc.needsPacket) requirePacket = true;
  }

  let pkt: CompiledProgram | null = null;
  let pktProgram: BufferProgram | null = null;
  const tx: TxProgram[] = [];
  // base64_data runs on what the buffer with base64_decode produced: inspect.ts compiles it into that program.
  const b64 = rule.buffers.find((b) => b.buffer === 'base64_data');
  const popts = (bp: BufferProgram) => ({
    datasets: ctx.datasets,
    ...(b64 !== undefined && bp.ops.some((o) => o.kind === 'base64_decode') ? { base64Data: b64 } : {}),
  });
  for (const bp of rule.buffers) {
    if (bp.buffer === 'base64_data') continue;
    if (bp.buffer === 'pkt_data') {
      if (pkt !== null) throw new Error('pkt_data used twice');
      pkt = compileProgram(bp, vars, popts(bp));
      pktProgram = bp;
      continue;
    }
    const hdr = packetHeader(bp.buffer);
    if (hdr !== null) {
      // Header buffers (tcp.hdr, ipv6.hdr, …) are bytes of the packet itself: inspected as a packet check.
      if ((bp.transforms ?? []).length > 0) throw new Error(`transforms on ${bp.buffer} are not supported`);
      const prog = compileProgram(bp, vars, popts(bp));
      checks.push((p) => p !== null && hdr(p) && runProgram(prog, p.data, HEADER_SPAN.off, HEADER_SPAN.len, headerState));
      requirePacket = true;
      continue;
    }
    const decl = bufferDecl(bp.buffer);
    if (decl === null) throw new Error(`buffer ${bp.buffer} is not supported`);
    const transforms = bp.transforms ?? [];
    tx.push({ name: bp.buffer, key: transforms.length > 0 ? `${bp.buffer}|${transforms.join(',')}` : bp.buffer, decl, transforms, prog: compileProgram(bp, vars, popts(bp)) });
    if (txProto !== null && txProto !== decl.proto) throw new Error(`buffers of ${txProto} and ${decl.proto} in one rule`);
    txProto = decl.proto;
  }
  if (txProto !== null && pkt !== null) {
    // An app-layer rule with payload content as well (`content:…; http.method; …`): Suricata matches
    // the payload part on the packets/stream that carry the transaction; here it runs on the
    // transaction's raw message (head and body) in the rule's direction.
    if (txProto !== 'http') throw new Error(`rule mixes packet payload (pkt_data) and ${txProto} buffers`);
    tx.unshift({ name: 'pkt_data', key: 'pkt_data', decl: HTTP_RAW_MESSAGE, transforms: [], prog: pkt });
    pkt = null;
  }
  // An event of a transaction protocol (`tls.invalid_certificate`, `dns.z_flag_set`) with nothing
  // else to inspect: matched on that protocol's transactions, as Suricata's tx-bound events, so the
  // alert carries the transaction (and an event raised while a flow ends still meets its last tx).
  if (txProto === null && pkt === null && tx.length === 0 && !requirePacket) {
    const ev = appEvents.find((e) => !e.negated)?.event;
    const fam = ev === undefined ? null : ev.slice(0, ev.indexOf('.'));
    if (fam === 'http' || fam === 'dns' || fam === 'tls' || fam === 'ssh') txProto = fam;
  }
  const kind = txProto !== null ? RuleKind.TX : RuleKind.PACKET;
  const appEvent = appEvents.find((e) => !e.negated)?.event ?? null;
  for (const e of appEvents) checks.push(appEventCheck(idx, e.event, e.negated, e.event === appEvent && !e.negated));
  // Without content, a packet rule on an event is decided by packets (as Suricata's, per packet or tx), not stream chunks.
  if (appEvent !== null && kind === RuleKind.PACKET && pkt === null) requirePacket = true;
  if (kind === RuleKind.TX) {
    if (appProto === null) appProto = txProto;
    if (requirePacket) throw new Error('rule mixes packet header checks and app-layer buffers');
  }

  // Direction of a tx rule: its flow option, else its buffers' sides.
  let txDir: TxDir = 2;
  if (kind === RuleKind.TX) {
    if (dirMask === 1) txDir = 0;
    else if (dirMask === 2) txDir = 1;
    else if (tx.some((t) => t.decl.side === 'response')) txDir = 1;
    else if (tx.some((t) => t.decl.side === 'request')) txDir = 0;
  }

  // Fast pattern: the rule's fast_pattern content, else Suricata's choice
  // (highest-priority buffer, then longest content), scored so that common
  // bytes lose ties. Negated contents never qualify.
  let fp: FastPattern | null = null;
  const cands: { c: ContentOp; key: string; prio: number }[] = [];
  if (pktProgram !== null) for (const op of pktProgram.ops) if (op.kind === 'content' && !op.negated && op.bytes.length > 0) cands.push({ c: op, key: 'pkt_data', prio: 1 });
  for (const t of tx) {
    const src = rule.buffers.find((b) => b.buffer === t.name && (b.transforms ?? []).join(',') === t.transforms.join(','));
    if (src === undefined) continue;
    for (const op of src.ops) if (op.kind === 'content' && !op.negated && op.bytes.length > 0) cands.push({ c: op, key: t.key, prio: t.decl.priority });
  }
  const explicit = cands.find((x) => x.c.fastPattern);
  let best = explicit ?? null;
  if (best === null) {
    for (const x of cands) {
      if (best === null || x.prio > best.prio || (x.prio === best.prio && patternScore(chop(x.c)) > patternScore(chop(best.c)))) best = x;
    }
  }
  if (best !== null) {
    const bytes = chop(best.c);
    const c = best.c;
    const depth = c.startsWith ? c.bytes.length : c.depth;
    const head = typeof depth === 'number' && c.distance === null && c.within === null && (c.offset === null || typeof c.offset === 'number') ? (c.offset ?? 0) + depth : -1;
    if (bytes.length > 0) fp = { bytes, nocase: c.nocase, key: best.key, head };
  }

  const id = (m: Map<string, number>, n: string): number => {
    let v = m.get(n);
    if (v === undefined) m.set(n, (v = m.size));
    return v;
  };
  const flowbitsRead: CompiledRule['flowbitsRead'] = [];
  const flowbitsWrite: CompiledRule['flowbitsWrite'] = [];
  let noalert = rule.noalert;
  for (const fb of rule.flowbits as FlowbitsOp[]) {
    const ids = fb.names.map((n) => id(ctx.bits, n));
    if (fb.cmd === 'noalert') noalert = true;
    else if (fb.cmd === 'isset' || fb.cmd === 'isnotset') flowbitsRead.push({ ids, all: fb.join === '&', negated: fb.cmd === 'isnotset' });
    else flowbitsWrite.push({ cmd: fb.cmd, ids });
  }
  const flowints = rule.flowints.map((fi) => ({
    id: id(ctx.ints, fi.name),
    op: fi.op,
    value: typeof fi.value === 'number' ? fi.value : null,
    valueInt: typeof fi.value === 'string' ? id(ctx.ints, fi.value) : -1,
  }));
  const xbitsRead: CompiledRule['xbitsRead'] = [];
  const xbitsWrite: CompiledRule['xbitsWrite'] = [];
  for (const xb of rule.xbits) {
    const xid = id(ctx.xbits, xb.name);
    if (xb.cmd === 'noalert') noalert = true;
    else if (xb.cmd === 'isset' || xb.cmd === 'isnotset') xbitsRead.push({ id: xid, track: xb.track, negated: xb.cmd === 'isnotset' });
    else xbitsWrite.push({ id: xid, track: xb.track, cmd: xb.cmd, expire: xb.expire ?? 30 });
  }

  return {
    idx,
    rule,
    kind,
    ipProto,
    appProto,
    dirMask,
    srcSet: ctx.addresses.intern(h.src),
    dstSet: ctx.addresses.intern(h.dst),
    pass: h.action === 'pass',
    streamMode,
    requirePacket,
    checks,
    txChecks,
    pkt,
    tx,
    txDir,
    txProto: kind === RuleKind.TX ? txProto : null,
    fp,
    flowbitsRead,
    flowbitsWrite,
    flowints,
    xbitsRead,
    xbitsWrite,
    threshold: rule.threshold,
    noalert,
    vars,
    appEvent,
  };
}

/** Checks that look at a transaction rather than a packet. */
function txCheck(c: PacketCheck): { proto: string; fn: TxCheckFn } | null {
  switch (c.kind) {
    case 'dns_opcode':
      return { proto: 'dns', fn: (tx) => tx instanceof DnsTx && (tx.message.opcode === c.value) !== c.negated };
    case 'tls_version':
      return { proto: 'tls', fn: (tx) => tx instanceof TlsTx && tx.data.version === c.value };
    case 'ssl_version':
      return {
        proto: 'tls',
        fn: (tx) => {
          if (!(tx instanceof TlsTx)) return false;
          const v = tx.data.version;
          if (c.negated.includes(v)) return false;
          return c.versions.length === 0 || c.versions.includes(v);
        },
      };
    case 'ssl_state':
      return {
        proto: 'tls',
        fn: (tx) => {
          if (!(tx instanceof TlsTx)) return false;
          // A handed-over TLS transaction has seen the handshake as far as it went.
          const has = (s: string): boolean =>
            s === 'client_hello' ? tx.data.clientVersion !== 0 : s === 'server_hello' ? tx.data.cipher >= 0 : s === 'client_keyx' || s === 'server_keyx' ? tx.data.cipher >= 0 : s === 'unknown';
          if (c.negated.some(has)) return false;
          return c.states.length === 0 || c.states.some(has);
        },
      };
    case 'tls_cert_expired':
      return { proto: 'tls', fn: (tx, now) => tx instanceof TlsTx && certTime(tx.data.serverCert?.notafter) < now };
    case 'tls_cert_valid':
      return { proto: 'tls', fn: (tx, now) => tx instanceof TlsTx && certTime(tx.data.serverCert?.notafter) >= now && certTime(tx.data.serverCert?.notbefore) <= now };
    case 'tls_store':
      return { proto: 'tls', fn: () => true };
    case 'tls_cert_chain_len':
      // Suricata inspects the server's Certificate message: no chain seen, no match.
      return { proto: 'tls', fn: (tx) => tx instanceof TlsTx && tx.data.serverChainLength > 0 && intCmp(c.cmp, tx.data.serverChainLength) };
    default:
      return null;
  }
}

function certTime(s: string | null | undefined): number {
  if (s === null || s === undefined) return NaN;
  const t = Date.parse(s.endsWith('Z') ? s : s + 'Z');
  return t / 1000;
}

/** Suricata's "established": TCP after the handshake (or picked up midstream), other protocols once both sides spoke. */
export function flowEstablished(fl: {
  proto: number; tcpState: number; seenDirs: number; state: number; tcpFlags?: number;
  toServerStream?: FlowStreamState | null; toClientStream?: FlowStreamState | null;
}): boolean {
  // Suricata flags packets established from the ESTABLISHED state on, closing states included;
  // transactions flushed at flow end (state CLOSED) must still count as established.
  if (fl.proto === 6) return fl.tcpState >= 3 && !refusedMidstream(fl);
  return fl.seenDirs === 3;
}

/**
 * No SYN on the flow and the reassembler declined every direction it saw
 * (`stream.midstream: false`): Suricata then keeps no TCP session, so
 * nothing on the flow is "established" (suricata-verify
 * alert-no-3whs-established). The flow tracker's state alone cannot tell.
 */
function refusedMidstream(fl: { tcpFlags?: number; toServerStream?: FlowStreamState | null; toClientStream?: FlowStreamState | null }): boolean {
  if (fl.tcpFlags === undefined || (fl.tcpFlags & 0x02) !== 0) return false;
  const a = fl.toServerStream;
  const b = fl.toClientStream;
  if ((a === null || a === undefined) && (b === null || b === undefined)) return false;
  const declined = (d: FlowStreamState | null | undefined): boolean => d === null || d === undefined || (d instanceof StreamDirection && !d.init);
  return declined(a) && declined(b);
}

/**
 * Order of evaluation, as Suricata's default: action (pass first, then
 * drop/reject, then alert), flowbits/flowint/xbits setters before rules
 * that only read them, then priority, then file order.
 */
function rank(r: Rule): [number, number, number] {
  const action = r.header.action === 'pass' ? 0 : r.header.action === 'alert' ? 2 : 1;
  const reads = r.flowbits.some((f) => f.cmd === 'isset' || f.cmd === 'isnotset') || r.xbits.some((x) => x.cmd === 'isset' || x.cmd === 'isnotset') ||
    r.flowints.some((f) => f.op !== '=' && f.op !== '+' && f.op !== '-');
  const writes = r.flowbits.some((f) => f.cmd === 'set' || f.cmd === 'unset' || f.cmd === 'toggle') || r.xbits.some((x) => x.cmd === 'set' || x.cmd === 'unset' || x.cmd === 'toggle') ||
    r.flowints.some((f) => f.op === '=' || f.op === '+' || f.op === '-');
  const bits = writes && !reads ? 0 : reads && writes ? 1 : reads ? 3 : 2;
  return [action, bits, r.meta.priority];
}

/** Input of the engine: the rule front end's RuleSet satisfies it. */
export interface EngineRules {
  rules: readonly Rule[];
}

export function compileRuleSet(ruleSet: EngineRules, datasets: DatasetRegistry = new DatasetRegistry()): CompiledRuleSet {
  const order = ruleSet.rules.map((r, i) => ({ r, i, k: rank(r) }));
  order.sort((a, b) => a.k[0] - b.k[0] || a.k[1] - b.k[1] || a.k[2] - b.k[2] || a.i - b.i);
  const ctx = { addresses: new AddressTable(), datasets, bits: new Map<string, number>(), ints: new Map<string, number>(), xbits: new Map<string, number>() };
  const rules: CompiledRule[] = [];
  const errors: RuleLoadError[] = [];
  let maxVars = 0;
  for (const { r } of order) {
    try {
      const c = compileRule(r, rules.length, ctx);
      rules.push(c);
      if (c.vars.count > maxVars) maxVars = c.vars.count;
    } catch (err) {
      errors.push({ file: r.source.file, line: r.source.line, sid: r.meta.sid, reason: err instanceof Error ? err.message : String(err) });
    }
  }
  return {
    rules,
    errors,
    addresses: ctx.addresses,
    flowbitNames: [...ctx.bits.keys()],
    flowintNames: [...ctx.ints.keys()],
    xbitNames: [...ctx.xbits.keys()],
    maxVars,
  };
}

export type { Packet };
