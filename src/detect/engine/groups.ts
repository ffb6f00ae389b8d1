/**
 * Signature groups: which rules a packet, stream chunk or transaction can
 * possibly match, each group with one multi-pattern prefilter per buffer.
 *
 * Packet rules are grouped like Suricata's port groups: per IP protocol and
 * direction, and for TCP/UDP per port — the destination port for toServer
 * packets (rules indexed by their destination ports), the source port for
 * toClient packets (rules indexed by their source ports), so both index the
 * flow's server port. Rules with `any` there (and `ip` rules, `<>` rules
 * and very wide port lists) form one "any" group per protocol and
 * direction; the rules naming ports form small per-port groups (ports with
 * identical lists share one), so a packet is prefiltered with two small-ish
 * matchers and no group repeats the `any` rules' patterns. (A first version
 * merged the `any` rules into every port group, Suricata-style, capped at 32
 * groups; the ports past the cap shared a union group holding nearly every
 * port-specific rule, and each SYN evaluated ~15 port-scan rules it could
 * never match.)
 *
 * Transaction rules are grouped by app-layer family (`http`, `dns`, `tls`,
 * `ssh`) and direction, with one prefilter per buffer key (buffer name plus
 * transforms): a buffer is scanned only with its own rules' patterns, and
 * the HTTP method/URI/header buffers are small — this, not one global
 * filter over the whole payload, is where the speed comes from (DESIGN.md).
 */
import { MatcherUnion, MultiPatternMatcher } from './mpm.js';
import type { CompiledRule } from './compile.js';
import { RuleKind } from './compile.js';
import type { BufferDecl } from './buffers.js';
import type { TransformName } from '../rules/ast.js';

/** One prefilter: patterns (deduplicated) and, per pattern id, the rules that chose it. */
export class Prefilter {
  readonly mpm = new MultiPatternMatcher();
  /** patRules[patId] = rule indices (ascending). */
  patRules: Int32Array[] = [];
  maxPatLen = 0;
  private readonly ids = new Map<string, number>();
  private readonly lists: number[][] = [];

  add(bytes: Uint8Array, nocase: boolean, rule: number): void {
    const key = (nocase ? 'i' : 'c') + Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.lists.length;
      this.ids.set(key, id);
      this.lists.push([]);
      this.mpm.add(bytes, nocase, id);
      if (bytes.length > this.maxPatLen) this.maxPatLen = bytes.length;
    }
    this.lists[id]!.push(rule);
  }

  get patternCount(): number {
    return Math.max(this.lists.length, this.patRules.length);
  }

  build(): void {
    this.patRules = this.lists.map((l) => Int32Array.from(l).sort());
    this.ids.clear();
    this.lists.length = 0;
    if (this.patRules.length > 0) this.mpm.build();
  }
}

export class PacketGroup {
  /** Prefilter over pkt_data fast patterns (unanchored ones; all of them for stream windows, see `preAll`). */
  readonly pre = new Prefilter();
  /**
   * Anchored fast patterns (their content has offset/depth): on packets only
   * the first `headLen` bytes are scanned for them. Many short ET patterns
   * (`|05|` depth 1, `|00 01|` depth 2) are anchored; scanning them over
   * whole payloads made them hit nearly everywhere.
   */
  readonly preHead = new Prefilter();
  headLen = 0;
  /** Every pkt_data fast pattern, for stream windows (whose start is not a message start). */
  readonly preAll = new Prefilter();
  /** Rules evaluated on every packet of the group (no usable fast pattern). */
  always: Int32Array = new Int32Array(0);
  /** Of `always`, those with a pkt_data program that may run on stream data. */
  alwaysStream: Int32Array = new Int32Array(0);
  readonly rules: number[];
  private aloneScan: PacketScan | null = null;

  /** This group's prefilters as one pass (groups without port groups: other IP protocols). */
  get alone(): PacketScan {
    return (this.aloneScan ??= new PacketScan([this]));
  }

  constructor(rules: number[], all: readonly CompiledRule[], ipIndexed: Uint8Array) {
    this.rules = rules;
    const always: number[] = [];
    const alwaysStream: number[] = [];
    for (const i of rules) {
      const r = all[i]!;
      if (r.fp !== null && r.fp.key === 'pkt_data') {
        this.preAll.add(r.fp.bytes, r.fp.nocase, i);
        if (r.fp.head >= 0 && r.fp.head <= 1024) {
          this.preHead.add(r.fp.bytes, r.fp.nocase, i);
          if (r.fp.head > this.headLen) this.headLen = r.fp.head;
        } else this.pre.add(r.fp.bytes, r.fp.nocase, i);
      } else if (ipIndexed[i] === 1) continue;
      else {
        always.push(i);
        if (r.pkt !== null && !r.requirePacket) alwaysStream.push(i);
      }
    }
    this.always = Int32Array.from(always).sort();
    this.alwaysStream = Int32Array.from(alwaysStream).sort();
    this.pre.build();
    this.preHead.build();
    this.preAll.build();
  }
}

/**
 * The prefilters one packet is scanned with — its `any` group's and its port
 * group's, whole-payload and anchored — as the parts of one MatcherUnion, so
 * the payload is read once, not up to four times.
 */
export class PacketScan {
  readonly pres: Prefilter[] = [];
  /** Per part: how many payload bytes it scans (-1: all of them). */
  readonly heads: Int32Array;
  /** Per part, filled per packet: min(payload length, head). */
  readonly limits: Int32Array;
  readonly union: MatcherUnion | null;

  constructor(groups: readonly (PacketGroup | null)[]) {
    const heads: number[] = [];
    for (const g of groups) {
      if (g === null) continue;
      if (g.pre.patRules.length > 0) {
        this.pres.push(g.pre);
        heads.push(-1);
      }
      if (g.preHead.patRules.length > 0 && g.headLen > 0) {
        this.pres.push(g.preHead);
        heads.push(g.headLen);
      }
    }
    this.heads = Int32Array.from(heads);
    this.limits = new Int32Array(heads.length);
    this.union = this.pres.length > 0 ? new MatcherUnion(this.pres.map((p) => p.mpm)) : null;
  }
}

export interface TxBufferFilter {
  key: string;
  decl: BufferDecl;
  transforms: TransformName[];
  pre: Prefilter;
}

export class TxGroup {
  readonly bufs: TxBufferFilter[] = [];
  always: Int32Array = new Int32Array(0);
  readonly rules: number[];

  constructor(rules: number[], all: readonly CompiledRule[]) {
    this.rules = rules;
    const always: number[] = [];
    const byKey = new Map<string, TxBufferFilter>();
    for (const i of rules) {
      const r = all[i]!;
      const fp = r.fp;
      if (fp === null) {
        always.push(i);
        continue;
      }
      let b = byKey.get(fp.key);
      if (b === undefined) {
        const tp = r.tx.find((t) => t.key === fp.key)!;
        b = { key: fp.key, decl: tp.decl, transforms: tp.transforms, pre: new Prefilter() };
        byKey.set(fp.key, b);
        this.bufs.push(b);
      }
      b.pre.add(fp.bytes, fp.nocase, i);
    }
    for (const b of this.bufs) b.pre.build();
    this.always = Int32Array.from(always).sort();
  }
}

/**
 * Per (protocol, direction): the group of rules with any port, and per port
 * the (small) group of rules naming that port. A packet is prefiltered with
 * both; most ports have no port-specific rules (group 0, empty).
 */
export class PortGroups {
  any!: PacketGroup;
  readonly byPort = new Uint16Array(65536);
  readonly groups: PacketGroup[] = [];
  /** scans[k]: the `any` group with port group k in one pass (k = 0: the `any` group alone). */
  readonly scans: PacketScan[] = [];
}

/** A port list covering more than this many ports (`!80`, `1024:`) is grouped with `any`: repeating it in every port group would cost more than it filters. */
const WIDE_PORTS = 32768;

export interface GroupTables {
  /** [proto 6|17][dir] */
  tcp: [PortGroups, PortGroups];
  udp: [PortGroups, PortGroups];
  /** Other IP protocols: proto → [dir0, dir1]; `otherDefault` for protocols no rule names. */
  other: Map<number, [PacketGroup, PacketGroup]>;
  otherDefault: [PacketGroup, PacketGroup];
  /** App-layer family → [toServer, toClient]. */
  tx: Map<string, [TxGroup, TxGroup]>;
  /** Packet rules without a fast pattern but with a short address list, by address. */
  ip: IpIndex;
}

/**
 * Rules without a fast pattern whose source or destination is a short
 * IPv4 list (ET Open's tor/ciarmy/compromised/botcc/dshield rules: ~1,200
 * rules of up to a few hundred addresses each) are found by address, not
 * evaluated on every packet: Suricata's IP-only engine, as elementary
 * intervals over the indexed side's ranges, searched with both of the
 * packet's addresses (so `<>` rules are found too). Without it every packet
 * would evaluate all of them.
 */
export class IpIndex {
  readonly indexed: Uint8Array;
  /** Start of each elementary interval (ascending, first is 0). */
  private starts = new Uint32Array(1);
  private lists: (Int32Array | null)[] = [null];
  readonly ruleCount: number;
  /**
   * IPv6 likewise: interval starts as 4 big-endian words each. (These were
   * once candidates for every IPv6 packet; ET Open has 273 Tor rules with
   * IPv6 lists, and on public-mix they were 83 % of all rule evaluations.)
   */
  private starts6 = new Uint32Array(4);
  private lists6: (Int32Array | null)[] = [null];

  constructor(rules: readonly CompiledRule[]) {
    this.indexed = new Uint8Array(rules.length);
    const ranges: { lo: number; hi: number; r: number }[] = [];
    const ranges6: { lo: bigint; hi: bigint; r: number }[] = [];
    for (const r of rules) {
      if (r.kind !== RuleKind.PACKET || (r.fp !== null && r.fp.key === 'pkt_data')) continue;
      const side = selective(r.rule.header.src) ? r.rule.header.src : selective(r.rule.header.dst) ? r.rule.header.dst : null;
      if (side === null) continue;
      this.indexed[r.idx] = 1;
      for (let k = 0; k + 8 <= side.v6.length; k += 8) ranges6.push({ lo: word128(side.v6, k), hi: word128(side.v6, k + 4), r: r.idx });
      for (let k = 0; k + 1 < side.v4.length; k += 2) ranges.push({ lo: side.v4[k]! >>> 0, hi: side.v4[k + 1]! >>> 0, r: r.idx });
    }
    this.ruleCount = this.indexed.reduce((a, b) => a + b, 0);
    if (ranges6.length > 0) this.build6(ranges6);
    if (ranges.length === 0) return;
    const b = new Set<number>([0]);
    for (const x of ranges) {
      b.add(x.lo);
      if (x.hi < 0xffffffff) b.add(x.hi + 1);
    }
    const starts = Float64Array.from(b).sort();
    this.starts = Uint32Array.from(starts);
    const lists: number[][] = Array.from(starts, () => []);
    for (const x of ranges) {
      for (let i = this.find(x.lo); i < starts.length && starts[i]! <= x.hi; i++) lists[i]!.push(x.r);
    }
    this.lists = lists.map((l) => (l.length === 0 ? null : Int32Array.from(new Set(l)).sort()));
  }

  private find(ip: number): number {
    const s = this.starts;
    let lo = 0;
    let hi = s.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (s[mid]! <= ip) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  private build6(ranges: { lo: bigint; hi: bigint; r: number }[]): void {
    const MAX = (1n << 128n) - 1n;
    const b = new Set<bigint>([0n]);
    for (const x of ranges) {
      b.add(x.lo);
      if (x.hi < MAX) b.add(x.hi + 1n);
    }
    const starts = [...b].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
    const lists: number[][] = starts.map(() => []);
    const find = (v: bigint): number => {
      let lo = 0;
      let hi = starts.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (starts[mid]! <= v) lo = mid;
        else hi = mid - 1;
      }
      return lo;
    };
    for (const x of ranges) for (let i = find(x.lo); i < starts.length && starts[i]! <= x.hi; i++) lists[i]!.push(x.r);
    this.starts6 = new Uint32Array(starts.length * 4);
    starts.forEach((v, i) => {
      for (let w = 0; w < 4; w++) this.starts6[i * 4 + w] = Number((v >> BigInt(96 - 32 * w)) & 0xffffffffn);
    });
    this.lists6 = lists.map((l) => (l.length === 0 ? null : Int32Array.from(new Set(l)).sort()));
  }

  /** Rules indexed under this IPv6 address (4 big-endian words), or null. */
  lookup6(ip: Uint32Array): Int32Array | null {
    const s = this.starts6;
    let lo = 0;
    let hi = s.length / 4 - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (cmpWords(s, mid * 4, ip) <= 0) lo = mid;
      else hi = mid - 1;
    }
    return this.lists6[lo]!;
  }

  /** Rules indexed under this IPv4 address, or null. */
  lookup(ip: number): Int32Array | null {
    return this.lists[this.find(ip >>> 0)]!;
  }
}

function word128(a: Uint32Array, at: number): bigint {
  return (BigInt(a[at]! >>> 0) << 96n) | (BigInt(a[at + 1]! >>> 0) << 64n) | (BigInt(a[at + 2]! >>> 0) << 32n) | BigInt(a[at + 3]! >>> 0);
}

/** Compare the 4 words at s[at..] with w (unsigned, big-endian word order). */
function cmpWords(s: Uint32Array, at: number, w: Uint32Array): number {
  for (let i = 0; i < 4; i++) {
    const a = s[at + i]!;
    const b = w[i]! >>> 0;
    if (a !== b) return a < b ? -1 : 1;
  }
  return 0;
}

/** An address set worth indexing: not `any`, under 2^24 IPv4 addresses (IPv6 entries go to the v6 list). */
function selective(s: { any: boolean; v4: Uint32Array; v6: Uint32Array }): boolean {
  if (s.any || (s.v4.length === 0 && s.v6.length === 0)) return false;
  let n = 0;
  for (let k = 0; k + 1 < s.v4.length; k += 2) n += (s.v4[k + 1]! >>> 0) - (s.v4[k]! >>> 0) + 1;
  return n < 1 << 24;
}

function portsFor(r: CompiledRule, dir: 0 | 1): Uint16Array | null {
  if (r.ipProto === -1 || r.rule.header.bidirectional) return null;
  const p = dir === 0 ? r.rule.header.dstPorts : r.rule.header.srcPorts;
  if (p.any) return null;
  let n = 0;
  for (let k = 0; k + 1 < p.ranges.length; k += 2) n += p.ranges[k + 1]! - p.ranges[k]! + 1;
  return n > WIDE_PORTS ? null : p.ranges;
}

function buildPortGroups(rules: readonly CompiledRule[], members: number[], dir: 0 | 1, ipIndexed: Uint8Array): PortGroups {
  const pg = new PortGroups();
  const anyRules: number[] = [];
  const specific: { i: number; ranges: Uint16Array }[] = [];
  for (const i of members) {
    const ranges = portsFor(rules[i]!, dir);
    if (ranges === null) anyRules.push(i);
    else specific.push({ i, ranges });
  }
  pg.any = new PacketGroup(anyRules, rules, ipIndexed);
  // Segments between every range boundary.
  const bounds = new Uint8Array(65537);
  bounds[0] = 1;
  for (const s of specific) {
    for (let k = 0; k + 1 < s.ranges.length; k += 2) {
      bounds[s.ranges[k]!] = 1;
      bounds[s.ranges[k + 1]! + 1] = 1;
    }
  }
  const segOf = new Int32Array(65536);
  const segStart: number[] = [];
  for (let p = 0; p < 65536; p++) {
    if (bounds[p] === 1) segStart.push(p);
    segOf[p] = segStart.length - 1;
  }
  const segRules: number[][] = segStart.map(() => []);
  for (const s of specific) {
    for (let k = 0; k + 1 < s.ranges.length; k += 2) {
      for (let g = segOf[s.ranges[k]!]!; g <= segOf[s.ranges[k + 1]!]!; g++) segRules[g]!.push(s.i);
    }
  }
  // Identical lists share a group; group 0 is "no port-specific rules".
  const byKey = new Map<string, number>();
  const segGroup = new Int32Array(segStart.length);
  pg.groups.push(new PacketGroup([], rules, ipIndexed));
  segRules.forEach((l, g) => {
    if (l.length === 0) return;
    const key = l.join(',');
    let id = byKey.get(key);
    if (id === undefined) {
      id = pg.groups.length;
      byKey.set(key, id);
      pg.groups.push(new PacketGroup(l.sort((a, b) => a - b), rules, ipIndexed));
    }
    segGroup[g] = id;
  });
  for (let p = 0; p < 65536; p++) pg.byPort[p] = segGroup[segOf[p]!]!;
  pg.groups.forEach((g, k) => pg.scans.push(new PacketScan([pg.any, k === 0 ? null : g])));
  return pg;
}

function mergeSorted(a: number[], b: number[]): number[] {
  const s = new Set<number>(a);
  for (const x of b) s.add(x);
  return [...s].sort((x, y) => x - y);
}

export function buildGroups(rules: readonly CompiledRule[]): GroupTables {
  const pkt = rules.filter((r) => r.kind === RuleKind.PACKET);
  const members = (proto: number, dir: 0 | 1): number[] =>
    pkt.filter((r) => (r.ipProto === proto || r.ipProto === -1 || (r.ipProto === -2 && (proto === 6 || proto === 17))) && (r.dirMask & (1 << dir)) !== 0).map((r) => r.idx);
  const ip = new IpIndex(rules);
  const x = ip.indexed;
  const tcp: [PortGroups, PortGroups] = [buildPortGroups(rules, members(6, 0), 0, x), buildPortGroups(rules, members(6, 1), 1, x)];
  const udp: [PortGroups, PortGroups] = [buildPortGroups(rules, members(17, 0), 0, x), buildPortGroups(rules, members(17, 1), 1, x)];
  const other = new Map<number, [PacketGroup, PacketGroup]>();
  const protos = new Set(pkt.map((r) => r.ipProto).filter((p) => p >= 0 && p !== 6 && p !== 17));
  for (const p of protos) other.set(p, [new PacketGroup(members(p, 0), rules, x), new PacketGroup(members(p, 1), rules, x)]);
  const ipOnly = (dir: 0 | 1): number[] => pkt.filter((r) => r.ipProto === -1 && (r.dirMask & (1 << dir)) !== 0).map((r) => r.idx);
  const otherDefault: [PacketGroup, PacketGroup] = [new PacketGroup(ipOnly(0), rules, x), new PacketGroup(ipOnly(1), rules, x)];

  const tx = new Map<string, [TxGroup, TxGroup]>();
  const fams = new Set(rules.filter((r) => r.kind === RuleKind.TX).map((r) => r.txProto!));
  for (const f of fams) {
    const m = (dir: 0 | 1): number[] => rules.filter((r) => r.kind === RuleKind.TX && r.txProto === f && (r.txDir === 2 || r.txDir === dir)).map((r) => r.idx);
    tx.set(f, [new TxGroup(m(0), rules), new TxGroup(m(1), rules)]);
  }
  return { tcp, udp, other, otherDefault, tx, ip };
}
