/**
 * Compares Harrier's flow records of one capture with tshark's TCP/UDP
 * conversations of the same capture, and explains every difference.
 *
 * Both sides are known frame by frame: tshark's conversation (stream index)
 * of each TCP/UDP layer of a frame, and the Harrier flow the frame was
 * counted in. Conversations and flows that share frames under the same
 * 5-tuple form one *component*. A component of one conversation and one flow
 * whose numbers are equal is an agreement. Anything else is a difference,
 * and each must match one of the explicit rules below, each checked against
 * the evidence (an idle gap really longer than the timeout, a SYN really
 * starting the second part, a decoder event really raised on that frame…).
 * A difference no rule explains is reported as unexplained; the test fails on
 * those.
 *
 * Rules (the strings are the names printed in the summary):
 */
import type { TsConversation, TsFrame } from '../support/tshark.js';
import { convKey, endpoint, rebuildConversations } from '../support/tshark.js';
import type { HarrierFlow } from './harrier-run.js';

export const WHY = {
  /** One tshark conversation is several Harrier flows: the flow ended on Suricata's idle timeout and a later packet began a new one. */
  idleTimeout: 'split: idle timeout',
  /** Same 5-tuple on different VLANs: separate flows for Harrier (Suricata keys by VLAN), one conversation for tshark. */
  vlan: 'split: vlan',
  /** A new SYN on a closed TCP flow starts a new Harrier flow (port reuse); tshark kept one stream. */
  harrierReuse: 'split: tcp port reuse (harrier)',
  /** tshark started a new stream at a SYN (its own port-reuse detection) where Harrier's flow went on. */
  tsharkReuse: 'split: tcp port reuse (tshark)',
  /** The whole capture was refused (link type Harrier does not decode): tshark's conversations have no flow. */
  refused: 'capture refused (link type)',
  /** Harrier's decoder rejected the frame with a named decoder event. */
  decoderEvent: 'frame: decoder event',
  /** An ICMP error Harrier attached to the flow of the packet it quotes (Suricata does); tshark counts it in no conversation. */
  icmpError: 'frame: icmp error attached to flow',
  /** tshark counts the outer UDP layer of a tunnel Harrier decodes; Harrier counts the frame in the inner flow only. */
  tunnelOuter: 'frame: tunnel outer layer (harrier tracks the inner flow)',
  /** tshark decodes a tunnel Harrier does not (GTP-U; Teredo with an authentication header, which Harrier leaves as UDP as Suricata does, …): Harrier counts the outer flow only. */
  tunnelInner: 'frame: tunnel inner layer not decoded by harrier',
  /** An IP fragment Harrier could not reassemble (held at the end, or snapped) while tshark reassembled or dissected it. */
  fragment: 'frame: ip fragment not reassembled',
  /**
   * tshark's stream of one 5-tuple was split by an application dissector that
   * creates its own conversations (RTP/RTCP/T.38 set up by SDP or Skinny,
   * SNMP, HART-IP, VNC): a new stream index with no SYN and no idle gap.
   * Only the dissectors in SPLITTING_DISSECTORS are accepted.
   */
  tsharkDissectorSplit: 'split: tshark dissector-created conversation',
  /** A tshark conversation whose endpoint is a wildcard (set up by SDP) holds frames of several 5-tuples; Harrier keys each exactly. */
  tsharkWildcard: 'frame: tshark wildcard conversation spans several 5-tuples',
  /** Frames in an encapsulation Harrier does not decode (listed in UNSUPPORTED_ENCAPS), dropped without a decoder event. */
  unsupportedEncap: 'frame: encapsulation harrier does not decode',
  /**
   * HARRIER DEFECT (kept visible, asserted separately): a packet whose TCP/UDP
   * header failed decoding (decoder.tcp.hlen_too_small, …) is still counted,
   * in a flow with ports 0; Suricata creates no flow for it.
   */
  invalidL4Counted: 'DEFECT: packet with invalid TCP/UDP header counted in a port-0 flow',
  /** Bytes: tshark's conv shows frame (wire) length, Harrier captured length as Suricata; the two differ for snapped frames. Numbers agree on captured length. */
  snaplen: 'bytes: wire length vs captured length (snaplen)',
  /**
   * Bytes of a tunnelled flow: Harrier counts the inner part of each frame
   * (from where Suricata's tunnel pseudo-packet starts), as Suricata's flow
   * records do; tshark's conversation counts whole frames. Accepted only when
   * the packets agree and the same frames' captured lengths give tshark's sums.
   */
  tunnelBytes: 'bytes: tunnelled flow counts the inner packet (as Suricata)',
} as const;

/** Application protocols (tshark names) whose dissectors start new conversations on a 5-tuple. */
export const SPLITTING_DISSECTORS: readonly string[] = ['rtp', 'rtcp', 't38', 'snmp', 'hart_ip', 'vnc'];

/** Encapsulations (tshark names) Harrier's decoder does not handle: PPPoE session, Cisco FabricPath. */
export const UNSUPPORTED_ENCAPS: readonly string[] = ['pppoes', 'cfp'];

/** Whether tshark's protocol list has an IP layer inside the `depth`-th TCP/UDP layer (0 outermost). */
function ipInside(protocols: string, depth: number): boolean {
  const ps = protocols.split(':');
  let n = -1;
  for (let k = 0; k < ps.length; k++) {
    if (ps[k] === 'tcp' || ps[k] === 'udp') n++;
    else if (n === depth && (ps[k] === 'ip' || ps[k] === 'ipv6')) return true;
  }
  return false;
}

function l4Error(ev: readonly string[] | undefined): boolean {
  return ev !== undefined && ev.some((e) => e.startsWith('decoder.tcp.') || e.startsWith('decoder.udp.'));
}

function portZero(f: HarrierFlow): boolean {
  return f.client.endsWith(':0') && f.server.endsWith(':0');
}

export interface TimeoutTable {
  tcp: { new: number; established: number; closed: number };
  udp: { new: number; established: number };
}

/** Per-frame view of Harrier's run (see harrier-run.ts). */
export interface HarrierFrames {
  flowOf: ArrayLike<number>;
  dirOf: ArrayLike<number>;
  protoOf: ArrayLike<number>;
  fragOf: ArrayLike<number>;
  /** Per frame: bytes the flow table added to the frame's flow (absent: the frame's captured length). */
  bytesOf?: ArrayLike<number>;
  eventsOf: ReadonlyMap<number, readonly string[]>;
  flows: ReadonlyMap<number, HarrierFlow>;
  refused: string | null;
}

export interface FileComparison {
  /** Components compared (each at least one conversation or TCP/UDP flow). */
  compared: number;
  agreements: number;
  /** Explained differences: component count by its sorted, joined reasons. */
  explained: Map<string, number>;
  /** One line per unexplained difference. */
  unexplained: string[];
  conversations: number;
  harrierFlows: number;
}

function add(m: Map<string, number>, k: string, n = 1): void {
  m.set(k, (m.get(k) ?? 0) + n);
}

function timeoutFor(t: TimeoutTable, f: HarrierFlow): number {
  if (f.proto === 6) return f.state === 'established' ? t.tcp.established : f.state === 'closed' ? t.tcp.closed : t.tcp.new;
  return f.state === 'established' ? t.udp.established : t.udp.new;
}

class UnionFind {
  private readonly parent: number[] = [];
  make(): number {
    this.parent.push(this.parent.length);
    return this.parent.length - 1;
  }
  find(x: number): number {
    const p = this.parent;
    while (p[x] !== x) {
      p[x] = p[p[x]];
      x = p[x];
    }
    return x;
  }
  union(a: number, b: number): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.parent[rb] = ra;
  }
}

/**
 * Compares one capture. `frames[i]` and the Harrier per-frame arrays describe
 * the same frame i (the caller checked the frame counts agree).
 */
export function compareFile(name: string, frames: readonly TsFrame[], h: HarrierFrames, timeouts: TimeoutTable): FileComparison {
  const convs = rebuildConversations(frames);
  const hflows = [...h.flows.values()].filter((f) => f.proto === 6 || f.proto === 17);
  const uf = new UnionFind();
  const convNode = convs.map(() => uf.make());
  const flowNode = new Map<number, number>();
  for (const f of hflows) flowNode.set(f.flowId, uf.make());
  /** Reasons gathered per node (merged per component later). */
  const reasons = new Map<number, Set<string>>();
  const unexplained: string[] = [];
  const note = (node: number, why: string): void => {
    let s = reasons.get(node);
    if (s === undefined) reasons.set(node, (s = new Set()));
    s.add(why);
  };
  /** Marks a node whose difference is already listed as unexplained (its numbers are not compared again). */
  const BAD = '\u0000unexplained';
  const flowOfFrame = (i: number): HarrierFlow | undefined => {
    const id = h.flowOf[i];
    return id < 0 ? undefined : h.flows.get(id);
  };

  // Per-frame links and frame-level differences, tshark side.
  for (let ci = 0; ci < convs.length; ci++) {
    const c = convs[ci];
    for (let k = 0; k < c.frames.length; k++) {
      const i = c.frames[k];
      const fr = frames[i];
      const hf = flowOfFrame(i);
      const mine = fr.layers.find((l) => l.tapped && l.proto === c.proto && l.stream === c.stream);
      if (hf !== undefined && hf.key !== c.key && mine !== undefined && hf.key === layerKey(mine)) {
        // The frame's own 5-tuple is Harrier's flow; tshark's conversation was keyed by another (wildcard) one.
        uf.union(convNode[ci], flowNode.get(hf.flowId) as number);
        note(convNode[ci], WHY.tsharkWildcard);
        continue;
      }
      if (hf !== undefined && hf.key === c.key) {
        uf.union(convNode[ci], flowNode.get(hf.flowId) as number);
        // Orientation: the frame's sender must be the side Harrier says it is.
        if (mine !== undefined && hf.client !== hf.server) {
          const sender = c.dirs[k] === 0 ? c.a : c.b;
          const expected = h.dirOf[i] === 0 ? hf.client : hf.server;
          if (sender !== expected) unexplained.push(`${name}: frame ${i + 1}: harrier direction ${h.dirOf[i]} but sender ${sender} (flow ${hf.client} -> ${hf.server})`);
        }
        continue;
      }
      if (h.refused !== null) {
        note(convNode[ci], WHY.refused);
        continue;
      }
      if (hf === undefined) {
        const ev = h.eventsOf.get(i);
        if (ev !== undefined && ev.length > 0) note(convNode[ci], `${WHY.decoderEvent} ${[...new Set(ev)].sort().join('+')}`);
        else if (h.fragOf[i] === 1) note(convNode[ci], WHY.fragment);
        else if (h.protoOf[i] === 0 && fr.protocols.split(':').some((p) => UNSUPPORTED_ENCAPS.includes(p))) {
          note(convNode[ci], `${WHY.unsupportedEncap} (${fr.protocols.split(':').filter((p) => UNSUPPORTED_ENCAPS.includes(p)).join('+')})`);
        }
        else {
          note(convNode[ci], BAD);
          unexplained.push(`${name}: frame ${i + 1} (${fr.protocols}) is in tshark ${c.proto === 6 ? 'tcp' : 'udp'} ${c.a} <-> ${c.b} but in no harrier flow, no decoder event`);
        }
        continue;
      }
      // Counted by Harrier in a flow with another 5-tuple: another layer of the same frame?
      const other = fr.layers.find((l) => l !== mine && hf.key === layerKey(l));
      if (portZero(hf) && l4Error(h.eventsOf.get(i))) note(convNode[ci], WHY.invalidL4Counted);
      else if (mine !== undefined && other !== undefined && other.depth > mine.depth && hf.tunnel) note(convNode[ci], WHY.tunnelOuter);
      // the inner packet is no TCP/UDP (ICMPv6 in Teredo, ICMP in VXLAN): tshark too sees an IP layer inside this UDP one
      else if (mine !== undefined && hf.tunnel && hf.proto !== 6 && hf.proto !== 17 && ipInside(fr.protocols, mine.depth)) note(convNode[ci], WHY.tunnelOuter);
      else if (mine !== undefined && other !== undefined && other.depth < mine.depth && !hf.tunnel) note(convNode[ci], WHY.tunnelInner);
      else {
        note(convNode[ci], BAD);
        unexplained.push(`${name}: frame ${i + 1} (${fr.protocols}) is in tshark ${c.key} but harrier counted it in ${hf.key}`);
      }
    }
  }

  // Harrier side: frames counted in a TCP/UDP flow that tshark's conversation of that 5-tuple does not hold.
  const counted = new Map<number, { ts: number; tc: number; bts: number; btc: number; cts: number; ctc: number }>();
  for (let i = 0; i < h.flowOf.length; i++) {
    const hf = flowOfFrame(i);
    if (hf === undefined || (hf.proto !== 6 && hf.proto !== 17)) continue;
    let n = counted.get(hf.flowId);
    if (n === undefined) counted.set(hf.flowId, (n = { ts: 0, tc: 0, bts: 0, btc: 0, cts: 0, ctc: 0 }));
    const fr = frames[i];
    const by = h.bytesOf !== undefined ? h.bytesOf[i] : fr.capLen;
    if (h.dirOf[i] === 0) {
      n.ts++;
      n.bts += by;
      n.cts += fr.capLen;
    } else {
      n.tc++;
      n.btc += by;
      n.ctc += fr.capLen;
    }
    if (fr.layers.some((l) => l.tapped && layerKey(l) === hf.key)) continue;
    const node = flowNode.get(hf.flowId) as number;
    if (h.protoOf[i] === 1 || h.protoOf[i] === 58) note(node, WHY.icmpError);
    else if (portZero(hf) && l4Error(h.eventsOf.get(i))) note(node, WHY.invalidL4Counted);
    else if (fr.layers.some((l) => l.tapped && l.proto === hf.proto && h.flows.get(h.flowOf[i]) === hf) && wildcardHolds(frames, i, hf.key)) {
      note(node, WHY.tsharkWildcard);
    } else {
      note(node, BAD);
      unexplained.push(`${name}: frame ${i + 1} (${fr.protocols}): harrier counted it in ${hf.key}, tshark in no conversation of that 5-tuple`);
    }
  }

  // Harrier's EVE numbers must be the sum of the frames it counted: otherwise the
  // per-frame comparison above would not be about the numbers it reports.
  for (const f of hflows) {
    const n = counted.get(f.flowId) ?? { ts: 0, tc: 0, bts: 0, btc: 0 };
    if (n.ts !== f.pktsToServer || n.tc !== f.pktsToClient || n.bts !== f.bytesToServer || n.btc !== f.bytesToClient) {
      unexplained.push(
        `${name}: harrier flow ${f.client} -> ${f.server} reports ${f.pktsToServer}/${f.bytesToServer} ${f.pktsToClient}/${f.bytesToClient} but counted frames ${n.ts}/${n.bts} ${n.tc}/${n.btc}`,
      );
    }
  }

  // Components.
  const comps = new Map<number, { convs: TsConversation[]; flows: HarrierFlow[]; why: Set<string> }>();
  const comp = (node: number): { convs: TsConversation[]; flows: HarrierFlow[]; why: Set<string> } => {
    const r = uf.find(node);
    let c = comps.get(r);
    if (c === undefined) comps.set(r, (c = { convs: [], flows: [], why: new Set() }));
    for (const w of reasons.get(node) ?? []) c.why.add(w);
    return c;
  };
  convs.forEach((c, ci) => comp(convNode[ci]).convs.push(c));
  for (const f of hflows) comp(flowNode.get(f.flowId) as number).flows.push(f);

  const explained = new Map<string, number>();
  let agreements = 0;
  for (const { convs: cs, flows: fs, why } of comps.values()) {
    if (why.has(BAD)) continue;
    // Several Harrier flows for one 5-tuple: each boundary needs its reason.
    if (fs.length > 1) {
      // Flows of different 5-tuples meet in one component only through a wildcard conversation (noted above).
      const sorted = fs.slice().sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : x.first - y.first));
      for (let k = 1; k < sorted.length; k++) {
        if (sorted[k].key !== sorted[k - 1].key) continue;
        const a = sorted[k - 1];
        const b = sorted[k];
        if (a.vlan !== b.vlan) why.add(WHY.vlan);
        else if (b.first - a.last >= timeoutFor(timeouts, a) - 1e-6) why.add(WHY.idleTimeout);
        else if (b.proto === 6 && startsWithSyn(frames, h, b.flowId)) why.add(WHY.harrierReuse);
        else unexplained.push(`${name}: harrier split ${a.key} into two flows ${(b.first - a.last).toFixed(3)} s apart (state ${a.state}) with no timeout, vlan or SYN`);
      }
    }
    if (cs.length > 1) {
      const sorted = cs.slice().sort((x, y) => x.frames[0] - y.frames[0]);
      for (let k = 1; k < sorted.length; k++) {
        const c = sorted[k];
        const first = frames[c.frames[0]];
        if (c.proto === 6 && first.tcpFlags >= 0 && (first.tcpFlags & 0x12) === 0x02) why.add(WHY.tsharkReuse);
        else if (splitByDissector(frames, sorted[k - 1], c)) why.add(WHY.tsharkDissectorSplit);
        else unexplained.push(`${name}: tshark has two conversations ${c.key} (streams ${sorted[k - 1].stream}, ${c.stream}) in one harrier flow, the second not starting with a SYN`);
      }
    }
    // Numbers of a one-to-one pair.
    if (cs.length === 1 && fs.length === 1 && why.size === 0) {
      const c = cs[0];
      const f = fs[0];
      const ab = f.client === c.a;
      const tsPk = ab ? c.framesAB : c.framesBA;
      const tcPk = ab ? c.framesBA : c.framesAB;
      const tsCap = ab ? c.capAB : c.capBA;
      const tcCap = ab ? c.capBA : c.capAB;
      if (f.pktsToServer !== tsPk || f.pktsToClient !== tcPk || f.bytesToServer !== tsCap || f.bytesToClient !== tcCap) {
        const n = counted.get(f.flowId);
        const innerBytes = f.tunnel && n !== undefined && f.pktsToServer === tsPk && f.pktsToClient === tcPk && n.cts === tsCap && n.ctc === tcCap;
        if (!innerBytes) {
          unexplained.push(
            `${name}: ${c.key}: harrier ${f.pktsToServer}/${f.bytesToServer} ${f.pktsToClient}/${f.bytesToClient}, tshark ${tsPk}/${tsCap} ${tcPk}/${tcCap}`,
          );
          continue;
        }
        why.add(WHY.tunnelBytes);
      }
      if (c.bytesAB !== c.capAB || c.bytesBA !== c.capBA) why.add(WHY.snaplen);
      else if (why.size === 0) {
        agreements++;
        continue;
      }
      // a reason (snaplen, tunnelBytes) goes to the explained tally below
    }
    if (why.size > 0) add(explained, [...why].sort().join(' & '));
    else if (cs.length === 0 || fs.length === 0) {
      // A conversation with no frame-level reason always has a flow (its frames were linked), and vice versa.
      unexplained.push(`${name}: unmatched ${cs.length === 0 ? `harrier flow ${fs[0].key}` : `tshark conversation ${cs[0].key}`}`);
    }
  }
  return { compared: comps.size, agreements, explained, unexplained, conversations: convs.length, harrierFlows: hflows.length };
}

function layerKey(l: { proto: number; src: string; dst: string; sport: number; dport: number }): string {
  return convKey(l.proto, endpoint(l.src, l.sport), endpoint(l.dst, l.dport));
}

/** The frame's tapped layer is in a conversation keyed by another 5-tuple whose own 5-tuple is `key` (see WHY.tsharkWildcard). */
function wildcardHolds(frames: readonly TsFrame[], i: number, key: string): boolean {
  return frames[i].layers.some((l) => l.tapped && layerKey(l) === key);
}

/** The later stream begins, or the earlier one ends, on a frame of a dissector that makes its own conversations. */
function splitByDissector(frames: readonly TsFrame[], prev: TsConversation, next: TsConversation): boolean {
  const app = (i: number): string[] => frames[i].protocols.split(':');
  const firstNext = app(next.frames[0]);
  const lastPrev = app(prev.frames[prev.frames.length - 1]);
  return [...firstNext, ...lastPrev].some((p) => SPLITTING_DISSECTORS.includes(p));
}

function startsWithSyn(frames: readonly TsFrame[], h: HarrierFrames, flowId: number): boolean {
  for (let i = 0; i < h.flowOf.length; i++) {
    if (h.flowOf[i] !== flowId) continue;
    const fl = frames[i].tcpFlags;
    return fl >= 0 && (fl & 0x12) === 0x02;
  }
  return false;
}
