// Acceptance test of issue 2 ("Packet pipeline"), part 2: reassembled TCP
// streams are byte-identical to `tshark -q -z follow,tcp,raw,N`, on at least
// 50 streams, including streams tshark flags with retransmissions,
// out-of-order segments and lost segments.
//
// Streams are chosen deterministically: every TCP stream carrying payload in
// the captures listed below (chrissanders' retransmission, out-of-order and
// plain HTTP/SMTP captures). Per capture, tshark runs twice: once with
// `-T fields` to list streams, their first frame, payload and analysis flags,
// once with one `-z follow,tcp,raw,N` per stream. Harrier's side comes from
// the pipeline's stream sink (`PipelineOutputs.stream`); the flow that holds
// a tshark stream is the one the flow table put the stream's first frame in,
// and each follow node is matched to the flow's client or server by address.
//
// Where the two legitimately differ: when segments were never captured,
// Harrier reports a gap (StreamSink.gap, with its length) and delivers no
// bytes for it, while tshark prints a text marker "[N bytes missing in
// capture file]" (plus a NUL) in the raw output. The marker is parsed as a
// gap (parseFollowRaw): the test asserts both put the same gaps at the same
// offsets and the data around them is identical, and counts such directions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Flow } from '../../src/flow/flow.js';
import type { StreamSink } from '../../src/stream/reassembler.js';
import { sharedPath, skipWithoutProgram, skipWithoutShared } from '../support/shared.js';
import { canonicalIp, parseFollowRaw, runAsync, type FollowGap } from '../support/tshark.js';
import { runHarrier, type HarrierRun } from './harrier-run.js';

const CAPTURES = [
  'tcp_retransmissions.pcapng',
  'tcp_dupack.pcapng',
  'tcp_ports.pcapng',
  'http_espn.pcapng',
  'http_espn_fail.pcapng',
  'sessionhijacking.pcapng',
  'ek_to_cryptowall4.pcapng',
  'dns_isp_hijack.pcapng',
  'inconsistent_printer.pcapng',
  'http_google.pcapng',
  'http_post.pcapng',
  'http_dvwa_sqlinjection.pcapng',
  'dns_axfr.pcapng',
  'mail_sender_attachment.pcapng',
  'ratinfected.pcapng',
  'tcp_zerowindowrecovery.pcapng',
  'cryptowall4_c2.pcapng',
  'aurora.pcapng',
];

const skip = skipWithoutShared('pcaps/chrissanders') || skipWithoutProgram('tshark');

interface TsStream {
  stream: number;
  /** 0-based index of the stream's first frame. */
  firstFrame: number;
  frames: number[];
  payload: number;
  retransmission: boolean;
  outOfOrder: boolean;
  lostSegment: boolean;
}

/** Per flow id and direction: data chunks in order, and gap lengths. */
class Collector {
  readonly data = new Map<number, [Buffer[], Buffer[]]>();
  /** Per flow id and direction: (data bytes before the gap, gap length). */
  readonly gaps = new Map<number, [FollowGap[], FollowGap[]]>();
  private readonly sizes = new Map<number, [number, number]>();
  private dirs(flow: Flow): [Buffer[], Buffer[]] {
    let d = this.data.get(flow.flowId);
    if (d === undefined) this.data.set(flow.flowId, (d = [[], []]));
    return d;
  }
  private size(flow: Flow): [number, number] {
    let s = this.sizes.get(flow.flowId);
    if (s === undefined) this.sizes.set(flow.flowId, (s = [0, 0]));
    return s;
  }
  data_(flow: Flow, dir: 0 | 1, buf: Buffer, off: number, len: number): void {
    this.dirs(flow)[dir].push(Buffer.from(buf.subarray(off, off + len)));
    this.size(flow)[dir] += len;
  }
  gap(flow: Flow, dir: 0 | 1, len: number): void {
    let g = this.gaps.get(flow.flowId);
    if (g === undefined) this.gaps.set(flow.flowId, (g = [[], []]));
    g[dir].push({ at: this.size(flow)[dir], len });
  }
}

function sinkOf(c: Collector): StreamSink {
  return { data: (f, d, b, o, l) => c.data_(f, d, b, o, l), gap: (f, d, l) => c.gap(f, d, l) };
}

/** `addr:port` of a follow node (IPv6 may be bracketed or not) in the flow-endpoint form. */
function nodeEndpoint(node: string): string {
  const i = node.lastIndexOf(':');
  const addr = node.slice(0, i).replace(/^\[|\]$/g, '');
  const port = node.slice(i + 1);
  return addr.includes(':') ? `[${canonicalIp(addr)}]:${port}` : `${addr}:${port}`;
}

function parseStreams(text: string): TsStream[] {
  const by = new Map<number, TsStream>();
  let i = 0;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const [st, len, re, ooo, lost] = line.split('\t');
    const idx = i++;
    if (st === undefined || st === '') continue;
    const n = Number(st.split(',')[0]);
    let s = by.get(n);
    if (s === undefined) by.set(n, (s = { stream: n, firstFrame: idx, frames: [], payload: 0, retransmission: false, outOfOrder: false, lostSegment: false }));
    s.frames.push(idx);
    s.payload += Number(len?.split(',')[0] ?? 0) || 0;
    if (re) s.retransmission = true;
    if (ooo) s.outOfOrder = true;
    if (lost) s.lostSegment = true;
  }
  return [...by.values()];
}

test('reassembled streams are byte-identical to tshark follow,tcp,raw on 50+ streams', { skip }, async (t) => {
  const t0 = Date.now();
  const counts = { streams: 0, directions: 0, bytes: 0, retransmission: 0, outOfOrder: 0, lostSegment: 0, gapDirections: 0, gapBytes: 0, splitFlows: 0, files: 0 };
  const problems: string[] = [];
  const jobs = CAPTURES.map((name) => sharedPath(join('pcaps/chrissanders', name))).filter((p): p is string => p !== null);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const file = jobs[next++];
      const name = file.slice(file.lastIndexOf('/') + 1);
      const fields = await runAsync('tshark', [
        '-r', file, '-n', '-T', 'fields',
        '-e', 'tcp.stream', '-e', 'tcp.len', '-e', 'tcp.analysis.retransmission', '-e', 'tcp.analysis.out_of_order', '-e', 'tcp.analysis.lost_segment',
      ]);
      const streams = parseStreams(fields.stdout).filter((s) => s.payload > 0);
      if (streams.length === 0) continue;
      const zs = streams.flatMap((s) => ['-z', `follow,tcp,raw,${s.stream}`]);
      const follow = await runAsync('tshark', ['-r', file, '-n', '-q', ...zs]);
      // Each follow block starts with a line of '=' and "Follow: tcp,raw", then "Filter: tcp.stream eq N"
      // (tshark prints the blocks in reverse order of the -z options: they are matched by N).
      const blocks = new Map<number, string>();
      for (const b of follow.stdout.split(/^=+\nFollow: /m).slice(1)) {
        const m = /^Filter: tcp\.stream eq (\d+)$/m.exec(b);
        if (m !== null) blocks.set(Number(m[1]), 'Follow: ' + b);
      }
      if (blocks.size !== streams.length) {
        problems.push(`${name}: ${streams.length} follow requests, ${blocks.size} outputs`);
        continue;
      }
      const col = new Collector();
      const h: HarrierRun = runHarrier(file, { stream: sinkOf(col) });
      counts.files++;
      streams.forEach((s) => {
        const fid = h.flowOf[s.firstFrame];
        const flow = h.flows.get(fid);
        if (flow === undefined) {
          problems.push(`${name} stream ${s.stream}: first frame ${s.firstFrame + 1} is in no harrier flow`);
          return;
        }
        if (s.frames.some((i) => h.flowOf[i] !== fid)) {
          // Harrier split the stream (idle timeout / port reuse): compared per flow elsewhere, not here.
          counts.splitFlows++;
          return;
        }
        const f = parseFollowRaw(blocks.get(s.stream) as string);
        const n0 = nodeEndpoint(f.node0);
        const n1 = nodeEndpoint(f.node1);
        let fromClient: Buffer;
        let fromServer: Buffer;
        let gapsClient: FollowGap[];
        let gapsServer: FollowGap[];
        if (n0 === flow.client && n1 === flow.server) [fromClient, fromServer, gapsClient, gapsServer] = [f.fromNode0, f.fromNode1, f.gaps0, f.gaps1];
        else if (n1 === flow.client && n0 === flow.server) [fromClient, fromServer, gapsClient, gapsServer] = [f.fromNode1, f.fromNode0, f.gaps1, f.gaps0];
        else {
          problems.push(`${name} stream ${s.stream}: follow nodes ${n0} ${n1} are not flow ${flow.client} -> ${flow.server}`);
          return;
        }
        counts.streams++;
        if (s.retransmission) counts.retransmission++;
        if (s.outOfOrder) counts.outOfOrder++;
        if (s.lostSegment) counts.lostSegment++;
        const got = col.data.get(fid) ?? [[], []];
        const gaps = col.gaps.get(fid) ?? [[], []];
        for (const dir of [0, 1] as const) {
          const want = dir === 0 ? fromClient : fromServer;
          const have = Buffer.concat(got[dir]);
          counts.directions++;
          counts.bytes += want.length;
          // Holes in the capture: Harrier's gap events must sit where tshark prints its marker, with the same length.
          const tg = dir === 0 ? gapsClient : gapsServer;
          const hg = gaps[dir];
          if (tg.length > 0 || hg.length > 0) {
            counts.gapDirections++;
            counts.gapBytes += hg.reduce((n, g) => n + g.len, 0);
            if (JSON.stringify(tg) !== JSON.stringify(hg)) {
              problems.push(`${name} stream ${s.stream} ${dir === 0 ? 'to server' : 'to client'}: gaps differ: tshark ${JSON.stringify(tg)}, harrier ${JSON.stringify(hg)}`);
            }
          }
          if (!have.equals(want)) {
            let at = 0;
            while (at < have.length && at < want.length && have[at] === want[at]) at++;
            problems.push(
              `${name} stream ${s.stream} ${dir === 0 ? 'to server' : 'to client'}: harrier ${have.length} bytes${hg.length > 0 ? ` (+gaps)` : ''}, tshark ${want.length}, first difference at byte ${at}${s.retransmission ? ' [retransmission]' : ''}${s.outOfOrder ? ' [out-of-order]' : ''}${s.lostSegment ? ' [lost segment]' : ''}`,
            );
          }
        }
      });
    }
  };
  await Promise.all([worker(), worker()]);
  t.diagnostic(
    `${counts.files} captures, ${counts.streams} streams (${counts.directions} directions, ${counts.bytes} bytes); tshark-flagged: retransmission ${counts.retransmission}, out-of-order ${counts.outOfOrder}, lost segment ${counts.lostSegment}`,
  );
  t.diagnostic(`gaps: ${counts.gapDirections} directions with holes in the capture: harrier reported ${counts.gapBytes} missing bytes via StreamSink.gap, tshark printed "[N bytes missing in capture file]" at the same offsets (markers left out of the byte comparison); streams split by harrier (not compared): ${counts.splitFlows}; ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  for (const p of problems.slice(0, 30)) t.diagnostic(`  ${p}`);
  assert.deepEqual(problems, []);
  assert.ok(counts.streams >= 50, `only ${counts.streams} streams compared`);
  assert.ok(counts.retransmission > 0 && counts.outOfOrder > 0, 'no retransmission or out-of-order stream among those compared');
});
