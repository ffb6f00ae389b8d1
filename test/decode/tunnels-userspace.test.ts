/**
 * Live Geneve and IP-in-IP without kernel tunnel devices.
 *
 * Why userspace: the kernels this suite runs on (CI containers, the dev box)
 * ship without the geneve and ipip modules, so `ip link add … type
 * geneve|ipip` (tunnels.test.ts) fails with "Unknown device type" and those
 * subtests skip. TUN/TAP and raw sockets do work, so tunnel-endpoint.py (next
 * to this file) plays the tunnel device: it owns a TUN (or TAP) carrying the
 * inner address and moves packets between it and the underlay, encapsulated
 * exactly as RFC 8926 (Geneve: UDP/6081, 8-byte header, VNI, Protocol Type
 * 0x0800 / 0x86DD / 0x6558) and RFC 2003 (IP-in-IP: outer IPv4, protocol 4,
 * inner datagram right after) lay them out. The kernel writes the outer
 * IPv4/UDP headers, so the decoder sees the same bytes a kernel tunnel would
 * put on the wire; a subtest has tshark dissect the capture and agree, frame
 * by frame, on tunnel, VNI and inner addresses.
 *
 * Two namespaces joined by a veth underlay (192.0.2.0/24, documentation
 * range, only inside the namespaces):
 *   geneve-ip   TUN, VNI 7,  underlay .1 ↔ .2, inner 10.250.0.0/24 + fd00:250::/64
 *   geneve-eth  TAP, VNI 8,  underlay .3 ↔ .4, inner 10.250.2.0/24 (Ethernet, ARP too)
 *   ipip        TUN,         underlay .1 ↔ .2, inner 10.250.1.0/24
 * ping and a TCP exchange across each, tcpdump on B's veth; the decoder and
 * the whole pipeline must report the INNER flows. Needs root, ip, tcpdump,
 * python3, ping and /dev/net/tun; skips with a message otherwise. Processes
 * and namespaces go in an after hook, even on failure; every wait is bounded.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { exited, inNs, killAll, sh, waitFor } from '../support/processes.js';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCaptureFile } from '../../src/capture/reader.js';
import type { FrameSink } from '../../src/capture/frame.js';
import { Decoder } from '../../src/decode/decoder.js';
import { Packet, TunnelKind } from '../../src/decode/packet.js';
import { ipv4ToString, ipv6ToString } from '../../src/events/format.js';
import { EveCollector } from '../../src/output/eve-writer.js';
import { defaultConfig } from '../../src/sensor/config.js';
import { Pipeline } from '../../src/sensor/pipeline.js';
import { REPO_ROOT, skipUnlessRoot, skipWithoutProgram } from '../support/shared.js';
import { ip6Words } from './build.js';

const ENDPOINT = join(REPO_ROOT, 'test', 'decode', 'tunnel-endpoint.py');
// The distribution's interpreter starts in ~30 ms; a pyenv shim on PATH takes over a second.
const PYTHON = ['/usr/bin/python3', '/usr/local/bin/python3'].find((p) => existsSync(p)) ?? 'python3';

const skip =
  skipUnlessRoot() ||
  skipWithoutProgram('ip') ||
  skipWithoutProgram('tcpdump') ||
  skipWithoutProgram('python3') ||
  skipWithoutProgram('ping') ||
  (existsSync('/dev/net/tun') ? false : 'skipped: /dev/net/tun is not available');
const hasTshark = skipWithoutProgram('tshark') === false;

const tag = (process.pid % 100000).toString(36) + (Date.now() % 1296).toString(36);
const NS_A = `hx-${tag}-a`;
const NS_B = `hx-${tag}-b`;
const VETH_A = `hxua${tag}`;
const VETH_B = `hxub${tag}`;

interface Variant {
  label: string;
  kind: TunnelKind;
  /** tunnel-endpoint.py --kind. */
  mode: 'geneve' | 'ipip';
  /** Device name inside both namespaces (namespaces keep them apart). */
  dev: string;
  tap: boolean;
  vni: number;
  /** The decoder's tunnelId: the VNI for Geneve, 0 for IP-in-IP. */
  id: number;
  underA: string;
  underB: string;
  /** Inner IPv4 /24 prefix (hosts .1 in A, .2 in B). */
  net: string;
  /** Inner IPv6 /64 prefix (hosts ::1 in A, ::2 in B), or null. */
  net6: string | null;
}

const variants: Variant[] = [
  { label: 'geneve-ip', kind: TunnelKind.GENEVE, mode: 'geneve', dev: 'hxgen7', tap: false, vni: 7, id: 7, underA: '192.0.2.1', underB: '192.0.2.2', net: '10.250.0', net6: 'fd00:250::' },
  { label: 'geneve-eth', kind: TunnelKind.GENEVE, mode: 'geneve', dev: 'hxgen8', tap: true, vni: 8, id: 8, underA: '192.0.2.3', underB: '192.0.2.4', net: '10.250.2', net6: null },
  { label: 'ipip', kind: TunnelKind.IPIP, mode: 'ipip', dev: 'hxipip', tap: false, vni: 0, id: 0, underA: '192.0.2.1', underB: '192.0.2.2', net: '10.250.1', net6: null },
];

const v6 = (s: string): string => ipv6ToString(ip6Words(s));

/** Starts a long-running process in a namespace (ip execs it, so its pid is the program's). */
function startInNs(ns: string, ...args: string[]): ChildProcess {
  const c = spawn('ip', ['netns', 'exec', ns, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(c);
  return c;
}

let dir = '';
let pcap = '';
const children: ChildProcess[] = [];

function cleanup(): void {
  killAll(children);
  // Deleting a namespace also removes its veth end and any TUN/TAP left behind.
  sh(['ip', 'netns', 'del', NS_A], true);
  sh(['ip', 'netns', 'del', NS_B], true);
  if (dir && process.env.HARRIER_KEEP_CAPTURE !== '1') rmSync(dir, { recursive: true, force: true });
  else if (dir) console.log(`kept ${pcap}`);
}

// One dual-stack server in B for every variant; each client names its target.
const SERVER = "const net=require('net');const s=net.createServer(c=>{c.on('data',d=>c.end('pong:'+d))});s.listen(8080,'::',()=>console.log('ready'));setTimeout(()=>process.exit(0),15000)";
const CLIENT = "const net=require('net');const c=net.connect(8080,process.argv[1],()=>c.write('ping'));let r='';c.on('data',d=>r+=d);c.on('end',()=>{console.log(r);process.exit(0)});c.on('error',e=>{console.error(e.message);process.exit(1)});setTimeout(()=>process.exit(2),5000)";

before(async () => {
  if (skip) return;
  cleanup();
  dir = mkdtempSync(join(tmpdir(), 'harrier-utun-'));
  pcap = join(dir, 'underlay.pcap');
  sh(['ip', 'netns', 'add', NS_A]);
  sh(['ip', 'netns', 'add', NS_B]);
  sh(['ip', 'link', 'add', VETH_A, 'netns', NS_A, 'type', 'veth', 'peer', 'name', VETH_B, 'netns', NS_B]);
  for (const [ns, dev, side] of [[NS_A, VETH_A, 'A'], [NS_B, VETH_B, 'B']] as const) {
    const addrs = new Set(variants.map((v) => (side === 'A' ? v.underA : v.underB)));
    for (const a of addrs) sh(inNs(ns, 'ip', 'addr', 'add', `${a}/24`, 'dev', dev));
    sh(inNs(ns, 'ip', 'link', 'set', dev, 'up'));
    sh(inNs(ns, 'ip', 'link', 'set', 'lo', 'up'));
  }

  const ready: Promise<void>[] = [];
  for (const v of variants) {
    for (const [ns, local, remote] of [[NS_A, v.underA, v.underB], [NS_B, v.underB, v.underA]]) {
      const args = [PYTHON, ENDPOINT, '--kind', v.mode, '--dev', v.dev, '--local', local, '--remote', remote, '--vni', String(v.vni), '--lifetime', '60'];
      if (v.tap) args.push('--tap');
      ready.push(waitFor(startInNs(ns, ...args), `ready ${v.dev}`, 10000));
    }
  }
  await Promise.all(ready);
  for (const v of variants) {
    for (const [ns, host] of [[NS_A, 1], [NS_B, 2]] as const) {
      sh(inNs(ns, 'ip', 'addr', 'add', `${v.net}.${host}/24`, 'dev', v.dev));
      if (v.net6) sh(inNs(ns, 'ip', 'addr', 'add', `${v.net6}${host}/64`, 'dev', v.dev, 'nodad'));
      // Below the veth's 1500 less the outer headers, so no outer fragmentation.
      sh(inNs(ns, 'ip', 'link', 'set', v.dev, 'mtu', '1400', 'up'));
    }
  }

  const dump = startInNs(NS_B, 'tcpdump', '-i', VETH_B, '-n', '--immediate-mode', '-U', '-s', '0', '-w', pcap);
  await waitFor(dump, 'listening on', 10000);
  const server = startInNs(NS_B, process.execPath, '-e', SERVER);
  await waitFor(server, 'ready', 10000);
  for (const v of variants) {
    const targets = [`${v.net}.2`, ...(v.net6 ? [`${v.net6}2`] : [])];
    for (const t of targets) {
      const p = sh(inNs(NS_A, 'ping', '-c', '3', '-i', '0.1', '-W', '2', t), true);
      assert.match(p.out, / 0% packet loss/, `ping ${t} over ${v.label}: ${p.out}`);
      const r = sh(inNs(NS_A, process.execPath, '-e', CLIENT, t), true);
      assert.match(r.out, /pong:ping/, `TCP exchange with ${t} over ${v.label}`);
    }
  }
  server.kill('SIGTERM');
  await exited(server, 3000);
  // tcpdump writes each packet (-U) but may lag behind on a loaded machine, and
  // packets still in its ring are dropped on SIGINT: wait for the file to settle.
  let last = -1;
  for (let i = 0; i < 20; i++) {
    await new Promise((r) => setTimeout(r, 150));
    const size = existsSync(pcap) ? statSync(pcap).size : 0;
    if (size === last && i >= 2) break;
    last = size;
  }
  dump.kill('SIGINT');
  await exited(dump, 5000);
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
});

after(cleanup);

interface Seen {
  frame: number;
  tunnel: TunnelKind;
  tunnelId: number;
  outerSrc: string;
  outerDst: string;
  ipVersion: number;
  src: string;
  dst: string;
  proto: number;
  sport: number;
  dport: number;
  icmpType: number;
  tcpFlags: number;
}

/** Every decoded frame of the capture, read through the capture module's reader. */
function decodeCapture(): Seen[] {
  // Locally sent packets carry offloaded (unfinished) outer checksums on veth: don't validate.
  const d = new Decoder({ checksumValidation: false });
  const pkt = new Packet();
  const out: Seen[] = [];
  let n = 0;
  const sink: FrameSink = {
    frame(data, off, capLen, origLen, tsSec, tsNsec, linkType) {
      n++;
      pkt.load(data, off, capLen, origLen, tsSec, tsNsec, linkType);
      if (!d.decode(pkt)) return;
      const six = pkt.ipVersion === 6;
      out.push({
        frame: n,
        tunnel: pkt.tunnel,
        tunnelId: pkt.tunnelId,
        outerSrc: ipv4ToString(pkt.tunnelSrc4),
        outerDst: ipv4ToString(pkt.tunnelDst4),
        ipVersion: pkt.ipVersion,
        src: six ? ipv6ToString(pkt.src6) : ipv4ToString(pkt.src4),
        dst: six ? ipv6ToString(pkt.dst6) : ipv4ToString(pkt.dst4),
        proto: pkt.proto,
        sport: pkt.sport,
        dport: pkt.dport,
        icmpType: pkt.icmpType,
        tcpFlags: pkt.tcpFlags,
      });
    },
  };
  readCaptureFile(pcap, sink);
  return out;
}

let seenCache: Seen[] | null = null;
const seen = (): Seen[] => (seenCache ??= decodeCapture());

for (const v of variants) {
  test(`userspace ${v.label}: inner addresses and ports, tunnel kind, id and outer endpoints`, { skip, timeout: 30000 }, () => {
    const pairs: Array<[string, string, number]> = [[`${v.net}.1`, `${v.net}.2`, 1]];
    if (v.net6) pairs.push([v6(`${v.net6}1`), v6(`${v.net6}2`), 58]);
    for (const [a, b, icmpProto] of pairs) {
      const mine = seen().filter((s) => (s.src === a && s.dst === b) || (s.src === b && s.dst === a));
      assert.ok(mine.length > 0, `no inner packets between ${a} and ${b} decoded`);
      for (const s of mine) {
        assert.equal(s.tunnel, v.kind, `frame ${s.frame}: tunnel kind`);
        assert.equal(s.tunnelId, v.id, `frame ${s.frame}: tunnel id`);
        assert.deepEqual([s.outerSrc, s.outerDst].sort(), [v.underA, v.underB].sort(), `frame ${s.frame}: outer endpoints`);
        // Direction of outer and inner agree: A's inner address rides from A's underlay address.
        assert.equal(s.outerSrc === v.underA, s.src === a, `frame ${s.frame}: direction`);
      }
      const [req, rep] = icmpProto === 1 ? [8, 0] : [128, 129];
      const echo = mine.filter((s) => s.proto === icmpProto);
      assert.equal(echo.filter((s) => s.icmpType === req && s.src === a).length, 3, `${a}: 3 echo requests`);
      assert.equal(echo.filter((s) => s.icmpType === rep && s.src === b).length, 3, `${a}: 3 echo replies`);
      const tcp = mine.filter((s) => s.proto === 6);
      const syn = tcp.filter((s) => s.tcpFlags === 0x02);
      assert.equal(syn.length, 1, `${a}: one SYN`);
      assert.ok(syn[0].src === a && syn[0].dport === 8080 && syn[0].sport >= 1024, `${a}: SYN from the client to 8080`);
      assert.ok(tcp.some((s) => s.src === b && s.sport === 8080 && s.dport === syn[0].sport), `${a}: TCP back from 8080`);
      assert.ok(tcp.every((s) => (s.src === a ? s.sport === syn[0].sport && s.dport === 8080 : s.sport === 8080 && s.dport === syn[0].sport)), `${a}: one connection`);
    }
  });
}

test('userspace tunnels: the pipeline reports the inner 5-tuples as flows', { skip, timeout: 30000 }, () => {
  const eve = new EveCollector();
  const p = new Pipeline(defaultConfig(), { eve });
  readCaptureFile(pcap, p);
  p.finish();
  const flows = eve.out.filter((r) => r.event_type === 'flow');
  for (const v of variants) {
    const pairs: Array<[string, string, string]> = [[`${v.net}.1`, `${v.net}.2`, 'ICMP']];
    if (v.net6) pairs.push([v6(`${v.net6}1`), v6(`${v.net6}2`), 'IPv6-ICMP']);
    for (const [a, b, icmpName] of pairs) {
      const syn = seen().find((s) => s.src === a && s.proto === 6 && s.tcpFlags === 0x02);
      assert.ok(syn, `${v.label}: SYN from ${a} decoded`);
      const tcp = flows.filter((r) => r.src_ip === a && r.dest_ip === b && r.proto === 'TCP');
      assert.equal(tcp.length, 1, `${v.label}: one TCP flow ${a} → ${b}`);
      assert.equal(tcp[0].src_port, syn.sport, `${v.label}: client port`);
      assert.equal(tcp[0].dest_port, 8080, `${v.label}: server port`);
      const fl = tcp[0].flow as Record<string, unknown>;
      assert.ok((fl.pkts_toserver as number) >= 3 && (fl.pkts_toclient as number) >= 2, `${v.label}: packets both ways`);
      const icmp = flows.filter((r) => r.src_ip === a && r.dest_ip === b && r.proto === icmpName);
      assert.equal(icmp.length, 1, `${v.label}: one ${icmpName} flow ${a} → ${b}`);
      const ifl = icmp[0].flow as Record<string, unknown>;
      assert.equal(ifl.pkts_toserver, 3, `${v.label}: 3 echo requests in the flow`);
      assert.equal(ifl.pkts_toclient, 3, `${v.label}: 3 echo replies in the flow`);
    }
  }
});

/** One frame as tshark dissects it: protocol stack, Geneve VNI (if any), IP protocols and addresses, outer first. */
interface TsharkRow {
  protocols: string;
  vni: string;
  ipProto: string[];
  ipSrc: string[];
  ipDst: string[];
  ip6Src: string[];
  ip6Dst: string[];
}

test('userspace tunnels: tshark dissects the same tunnels and inner packets', { skip: skip || (hasTshark ? false : 'skipped: tshark is not installed'), timeout: 30000 }, () => {
  const fields = ['frame.number', 'frame.protocols', 'geneve.vni', 'ip.proto', 'ip.src', 'ip.dst', 'ipv6.src', 'ipv6.dst'];
  const r = spawnSync('tshark', ['-n', '-r', pcap, '-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=a', '-E', 'aggregator=,', ...fields.flatMap((f) => ['-e', f])], { encoding: 'utf8', timeout: 20000 });
  assert.equal(r.status, 0, `tshark failed: ${r.stderr}`);
  const ours = new Map(seen().map((s) => [s.frame, s]));
  let geneve = 0;
  let ipip = 0;
  let frames = 0;
  for (const line of r.stdout.split('\n')) {
    if (!line) continue;
    frames++;
    const [num, protocols, vni, proto, src, dst, src6, dst6] = line.split('\t');
    const list = (x: string | undefined) => (x ? x.split(',') : []);
    const t: TsharkRow = { protocols: protocols ?? '', vni: vni ?? '', ipProto: list(proto), ipSrc: list(src), ipDst: list(dst), ip6Src: list(src6), ip6Dst: list(dst6) };
    const n = Number(num);
    const s = ours.get(n);
    const tsGeneve = t.protocols.includes(':geneve');
    const tsIpip = t.protocols.startsWith('eth:ethertype:ip:ip:');
    if (!tsGeneve && !tsIpip) {
      if (s) assert.equal(s.tunnel, TunnelKind.NONE, `frame ${n}: tshark sees no tunnel`);
      continue;
    }
    if (!s) {
      // The decoder stops (no IP layer) at ARP carried over the Ethernet-in-Geneve tunnel.
      assert.ok(t.protocols.endsWith(':arp'), `frame ${n} (${t.protocols}) not decoded`);
      continue;
    }
    if (tsGeneve) geneve++;
    else ipip++;
    assert.equal(s.tunnel, tsGeneve ? TunnelKind.GENEVE : TunnelKind.IPIP, `frame ${n}: tunnel kind`);
    if (tsGeneve) assert.equal(s.tunnelId, Number(t.vni), `frame ${n}: VNI`);
    else assert.equal(t.ipProto[0], '4', `frame ${n}: outer protocol 4`);
    assert.equal(s.outerSrc, t.ipSrc[0], `frame ${n}: outer source`);
    assert.equal(s.outerDst, t.ipDst[0], `frame ${n}: outer destination`);
    // Innermost addresses: the IPv6 pair (only inner packets are IPv6 here), else the last IPv4 pair.
    if (s.ipVersion === 6) {
      assert.equal(s.src, v6(t.ip6Src[t.ip6Src.length - 1]), `frame ${n}: inner IPv6 source`);
      assert.equal(s.dst, v6(t.ip6Dst[t.ip6Dst.length - 1]), `frame ${n}: inner IPv6 destination`);
    } else {
      assert.equal(s.ipVersion, 4, `frame ${n}: inner IP version`);
      assert.ok(t.ipSrc.length >= 2, `frame ${n}: tshark sees an inner IPv4 header`);
      assert.equal(s.src, t.ipSrc[t.ipSrc.length - 1], `frame ${n}: inner source`);
      assert.equal(s.dst, t.ipDst[t.ipDst.length - 1], `frame ${n}: inner destination`);
    }
  }
  assert.equal(frames, ours.size + [...r.stdout.matchAll(/:arp\t/g)].length, 'every frame either decoded or ARP');
  // 3 pings (6 packets) and one TCP connection (≥ 9 packets) per inner address pair.
  assert.ok(geneve >= 45, `Geneve frames compared: ${geneve}`);
  assert.ok(ipip >= 15, `IP-in-IP frames compared: ${ipip}`);
});
