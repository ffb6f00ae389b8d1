/**
 * Compare Harrier's TCP reassembly with `tshark -q -z follow,tcp,raw,N`.
 *
 * tshark is used twice: once to list the TCP packets of a capture with the
 * fields the decoder would give us (so this comparison does not depend on
 * Harrier's own capture/decode stages), and once to print its followed
 * streams. The packets go through FlowTable + TcpReassembler exactly as the
 * pipeline wires them; each tshark stream that maps one-to-one onto a
 * Harrier flow is compared byte for byte, per direction.
 *
 * Run directly to check captures by hand:
 *   node dist/test/stream/follow-compare.js file.pcap [more.pcap …]
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Packet } from '../../src/decode/packet.js';
import { FlowTable } from '../../src/flow/table.js';
import type { Flow } from '../../src/flow/flow.js';
import { TcpReassembler } from '../../src/stream/reassembler.js';

export interface CompareResult {
  file: string;
  streams: number;
  compared: number;
  matched: number;
  /** tshark streams not mapping one-to-one onto a flow (port reuse, timeouts). */
  unmapped: number;
  mismatches: string[];
  gaps: number;
}

function tshark(args: string[]): string {
  const r = spawnSync('tshark', args, { encoding: 'latin1', maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`tshark ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

function parse4(s: string): number {
  const p = s.split('.');
  return ((+p[0] << 24) | (+p[1] << 16) | (+p[2] << 8) | +p[3]) >>> 0;
}

function parse6(s: string, out: Uint32Array): void {
  const [head, tail] = s.includes('::') ? s.split('::') : [s, ''];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = [...h, ...new Array(8 - h.length - t.length).fill('0'), ...t].map((g) => parseInt(g, 16));
  for (let i = 0; i < 4; i++) out[i] = ((groups[2 * i] << 16) | groups[2 * i + 1]) >>> 0;
}

/** Parse `tshark -z follow,tcp,raw,N` output: stream -> [node0 "addr:port", node0 bytes, node1 bytes]. */
function parseFollow(out: string): Map<number, { node0: string; bytes: [string, string] }> {
  const res = new Map<number, { node0: string; bytes: [string, string] }>();
  let cur: { node0: string; bytes: [string, string] } | null = null;
  let hex: [string[], string[]] = [[], []];
  for (const line of out.split('\n')) {
    const m = /^Filter: tcp\.stream eq (\d+)/.exec(line);
    if (m) {
      cur = { node0: '', bytes: ['', ''] };
      hex = [[], []];
      res.set(+m[1], cur);
      continue;
    }
    if (cur === null) continue;
    if (line.startsWith('Node 0: ')) cur.node0 = line.slice(8).trim();
    else if (line.startsWith('Node 1: ') || line.startsWith('Follow:')) continue;
    else if (line.startsWith('=====')) {
      cur.bytes = [hex[0].join(''), hex[1].join('')];
      cur = null;
    } else if (line.startsWith('\t')) hex[1].push(line.trim());
    else if (line.length > 0) hex[0].push(line.trim());
  }
  return res;
}

function endpointOf(addr: string, port: number): string {
  return `${addr}:${port}`;
}

/**
 * Compare every TCP stream of `file` (at most `maxStreams`). With
 * `followFirst` > 0, only streams 0..followFirst-1 are followed, in the same
 * tshark run that lists the packets.
 */
export function compareWithTshark(file: string, maxStreams = 200, followFirst = 0): CompareResult {
  const fields = [
    'frame.time_epoch',
    'frame.cap_len',
    'ip.src',
    'ip.dst',
    'ipv6.src',
    'ipv6.dst',
    'tcp.srcport',
    'tcp.dstport',
    'tcp.seq_raw',
    'tcp.ack_raw',
    'tcp.flags',
    'tcp.payload',
    'tcp.stream',
  ];
  // One tshark run when the caller bounds the stream ids to follow (tshark
  // starts slowly), two otherwise: list packets, then follow the streams seen.
  const listArgs = ['-r', file, '-n', '-Y', 'tcp && !icmp && !icmpv6', '-T', 'fields', '-E', 'separator=/t', ...fields.flatMap((f) => ['-e', f])];
  let list: string;
  let followed: Map<number, { node0: string; bytes: [string, string] }> | null = null;
  if (followFirst > 0) {
    const ids = Array.from({ length: followFirst }, (_, i) => i);
    const out = tshark([...listArgs, ...ids.flatMap((id) => ['-z', `follow,tcp,raw,${id}`])]);
    const cut = out.indexOf('\n===================');
    list = cut < 0 ? out : out.slice(0, cut);
    followed = parseFollow(cut < 0 ? '' : out.slice(cut));
  } else {
    list = tshark(listArgs);
  }

  const flowBytes = new Map<Flow, [Buffer[], Buffer[]]>();
  let gaps = 0;
  const reasm = new TcpReassembler(
    {},
    {
      data(f, dir, buf, off, len) {
        let e = flowBytes.get(f);
        if (!e) flowBytes.set(f, (e = [[], []]));
        e[dir].push(Buffer.from(buf.subarray(off, off + len)));
      },
      gap(f, dir, len) {
        // tshark's follow shows a hole as this text (with a NUL); render ours alike.
        gaps++;
        let e = flowBytes.get(f);
        if (!e) flowBytes.set(f, (e = [[], []]));
        e[dir].push(Buffer.from(`[${len} bytes missing in capture file]\0`, 'latin1'));
      },
    },
  );
  const table = new FlowTable({}, { onFlowEnd: (f) => reasm.flowEnded(f) });
  table.addMemorySource(() => reasm.memuse);

  // tshark stream -> flows it touched; flow -> tshark streams; flow -> client endpoint text
  const streamFlows = new Map<number, Set<Flow>>();
  const flowStreams = new Map<Flow, Set<number>>();
  const clientOf = new Map<Flow, string>();
  const p = new Packet();
  let lastSec = 0;
  for (const line of list.split('\n')) {
    if (!line) continue;
    const c = line.split('\t');
    const [ts, capLen, ipSrc, ipDst, ip6Src, ip6Dst, sport, dport, seq, ack, flags, payload, stream] = c;
    if (ipSrc.includes(',') || ip6Src.includes(',') || sport.includes(',')) continue; // tunnels: skip
    p.reset();
    const sec = Math.floor(+ts);
    p.tsSec = sec;
    p.tsNsec = Math.round((+ts - sec) * 1e9) % 1e9;
    p.capLen = +capLen;
    let src: string;
    if (ipSrc) {
      p.ipVersion = 4;
      p.src4 = parse4(ipSrc);
      p.dst4 = parse4(ipDst);
      src = ipSrc;
    } else if (ip6Src) {
      p.ipVersion = 6;
      parse6(ip6Src, p.src6);
      parse6(ip6Dst, p.dst6);
      src = `[${ip6Src}]`;
    } else continue;
    p.proto = 6;
    p.sport = +sport;
    p.dport = +dport;
    p.tcpSeq = +seq >>> 0;
    p.tcpAck = +ack >>> 0;
    p.tcpFlags = parseInt(flags, 16) & 0xff;
    p.data = Buffer.from(payload, 'hex');
    p.payloadOff = 0;
    p.payloadLen = p.data.length;
    if (sec !== lastSec) {
      table.expire(sec);
      lastSec = sec;
    }
    const f = table.handle(p);
    if (f === null) continue;
    const dir = table.lastDirection as 0 | 1;
    if (!clientOf.has(f)) {
      clientOf.set(f, dir === 0 ? endpointOf(src, p.sport) : endpointOf(ipDst ? ipDst : `[${ip6Dst}]`, p.dport));
    }
    reasm.handle(f, dir, p);
    const sid = +stream;
    let sf = streamFlows.get(sid);
    if (!sf) streamFlows.set(sid, (sf = new Set()));
    sf.add(f);
    let fs = flowStreams.get(f);
    if (!fs) flowStreams.set(f, (fs = new Set()));
    fs.add(sid);
  }
  table.flushAll();

  let ids = [...streamFlows.keys()].sort((a, b) => a - b).slice(0, maxStreams);
  if (followFirst > 0) ids = ids.filter((id) => id < followFirst);
  const res: CompareResult = { file, streams: streamFlows.size, compared: 0, matched: 0, unmapped: 0, mismatches: [], gaps };
  const CHUNK = 50;
  for (let i = 0; i < ids.length; i += CHUNK) {
    const part = ids.slice(i, i + CHUNK);
    const out = followed ?? parseFollow(tshark(['-r', file, '-n', '-q', ...part.flatMap((id) => ['-z', `follow,tcp,raw,${id}`])]));
    for (const id of part) {
      const flows = streamFlows.get(id)!;
      const t = out.get(id);
      if (flows.size !== 1 || t === undefined) {
        res.unmapped++;
        continue;
      }
      const f = [...flows][0];
      if (flowStreams.get(f)!.size !== 1) {
        res.unmapped++;
        continue;
      }
      res.compared++;
      const ours = flowBytes.get(f) ?? [[], []];
      const ourHex = [Buffer.concat(ours[0]).toString('hex'), Buffer.concat(ours[1]).toString('hex')];
      // tshark's node 0 is one endpoint; orient our directions to it
      const node0IsClient = t.node0 === clientOf.get(f);
      const mine: [string, string] = node0IsClient ? [ourHex[0], ourHex[1]] : [ourHex[1], ourHex[0]];
      if (mine[0] === t.bytes[0] && mine[1] === t.bytes[1]) res.matched++;
      else {
        const d = mine[0] === t.bytes[0] ? 1 : 0;
        const a = mine[d];
        const b = t.bytes[d];
        let k = 0;
        while (k < a.length && k < b.length && a[k] === b[k]) k++;
        res.mismatches.push(
          `stream ${id} node${d} (${t.node0}${node0IsClient ? '' : ', node0 = server'}): ours ${a.length / 2} B, tshark ${b.length / 2} B, first difference at byte ${Math.floor(k / 2)}`,
        );
      }
    }
  }
  return res;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const f of process.argv.slice(2)) {
    try {
      const r = compareWithTshark(f, 100000);
      console.log(
        `${f}: streams ${r.streams}, compared ${r.compared}, matched ${r.matched}, unmapped ${r.unmapped}, gaps ${r.gaps}`,
      );
      for (const m of r.mismatches.slice(0, 10)) console.log(`  ${m}`);
    } catch (e) {
      console.log(`${f}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
}
