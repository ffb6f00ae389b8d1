/**
 * Per-packet comparison with tshark (Wireshark's dissectors as the oracle):
 * for every frame of a set of real captures, the innermost IP addresses, the
 * transport protocol and ports, ICMP type and the outer VLAN must match what
 * tshark reports. Covers Ethernet, VLAN/QinQ, PPP, IPv4/IPv6 (with extension
 * headers and fragments), IP-in-IP in all four combinations, GRE/PPP and
 * VXLAN from third-party captures.
 *
 * Skipped when tshark or the shared data is missing. Frames held for
 * reassembly (our decode returns false with isFragment) are not compared;
 * the frame completing a datagram is (tshark shows the reassembled chain on it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Decoder } from '../../src/decode/decoder.js';
import { Packet } from '../../src/decode/packet.js';
import { sharedPath, skipWithoutProgram, skipWithoutShared } from '../support/shared.js';
import { ip4, ip6Words, ipv4Text } from './build.js';
import { loadFrames } from './frames.js';

const FIELDS = ['frame.protocols', 'ip.src', 'ip.dst', 'ipv6.src', 'ipv6.dst', 'tcp.srcport', 'tcp.dstport', 'udp.srcport', 'udp.dstport', 'icmp.type', 'icmpv6.type', 'vlan.id'] as const;

type TsRow = Record<(typeof FIELDS)[number], string[]>;

function tshark(path: string): TsRow[] {
  const args = ['-r', path, '-n', '-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=a', '-E', 'aggregator=;'];
  for (const f of FIELDS) args.push('-e', f);
  const r = spawnSync('tshark', args, { encoding: 'utf8', timeout: 50000, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`tshark failed on ${path}: ${r.stderr}`);
  return r.stdout
    .split('\n')
    .filter((l) => l.length > 0)
    .map((line) => {
      const cols = line.split('\t');
      const row = {} as TsRow;
      FIELDS.forEach((f, i) => {
        const v = cols[i] ?? '';
        row[f] = f === 'frame.protocols' ? v.split(':') : v === '' ? [] : v.split(';');
      });
      return row;
    });
}

/** What tshark says about the innermost packet (before any ICMP, whose quoted datagram comes after). */
function expected(row: TsRow): { v: number; src: string; dst: string; l4: string; sport: number; dport: number; icmp: number } | null {
  let chain = row['frame.protocols'];
  const icmpAt = chain.findIndex((p) => p === 'icmp' || p === 'icmpv6');
  if (icmpAt >= 0) chain = chain.slice(0, icmpAt + 1);
  const count = (name: string) => chain.filter((p) => p === name).length;
  const lastIp = Math.max(chain.lastIndexOf('ip'), chain.lastIndexOf('ipv6'));
  if (lastIp < 0) return null;
  const v = chain[lastIp] === 'ip' ? 4 : 6;
  const n = count(v === 4 ? 'ip' : 'ipv6') - 1;
  const src = row[v === 4 ? 'ip.src' : 'ipv6.src'][n];
  const dst = row[v === 4 ? 'ip.dst' : 'ipv6.dst'][n];
  const after = chain.slice(lastIp + 1);
  const l4 = after.find((p) => p === 'tcp' || p === 'udp' || p === 'icmp' || p === 'icmpv6') ?? '';
  let sport = 0;
  let dport = 0;
  let icmp = -1;
  if (l4 === 'tcp' || l4 === 'udp') {
    const k = count(l4) - 1;
    sport = Number(row[`${l4}.srcport`][k]);
    dport = Number(row[`${l4}.dstport`][k]);
  } else if (l4 === 'icmp' || l4 === 'icmpv6') {
    icmp = Number(row[`${l4}.type`][0]);
  }
  return { v, src, dst, l4, sport, dport, icmp };
}

function words6(s: string): string {
  return ip6Words(s).join(',');
}

const FILES = [
  'pcaps/chrissanders/http_ip4and6.pcapng',
  'pcaps/chrissanders/dns_tcp.pcapng',
  'pcaps/chrissanders/arppoison.pcapng',
  'pcaps/chrissanders/tcp_ports.pcapng',
  'pcaps/chrissanders/synscan.pcapng',
  'pcaps/chrissanders/icmp_traceroute.pcapng',
  'pcaps/chrissanders/ipv6_fragments.pcapng',
  'pcaps/ndpi/tests/cfgs/default/pcap/4in4tunnel.pcap',
  'pcaps/ndpi/tests/cfgs/default/pcap/4in6tunnel.pcap',
  'pcaps/ndpi/tests/cfgs/default/pcap/6in4tunnel.pcap',
  'pcaps/ndpi/tests/cfgs/default/pcap/6in6tunnel.pcap',
  'pcaps/ndpi/tests/cfgs/default/pcap/gre.pcapng',
  'pcaps/ndpi/tests/cfgs/default/pcap/vxlan.pcap',
  'pcaps/ndpi/tests/cfgs/default/pcap/dlt_ppp.pcap',
  'pcaps/ndpi/tests/cfgs/default/pcap/dns_fragmented.pcap',
];

const noTshark = skipWithoutProgram('tshark') || skipWithoutProgram('mergecap');

/**
 * tshark's start-up (loading every dissector) costs more than dissecting
 * these captures, so they are concatenated with `mergecap -a` into one
 * pcapng and dissected by one tshark run; rows are then split per file by
 * frame counts (concatenation keeps every file's frames in order).
 */
let tsRows: Map<string, TsRow[]> | null = null;

function tsharkAll(): Map<string, TsRow[]> {
  if (tsRows !== null) return tsRows;
  const present = FILES.filter((rel) => sharedPath(rel) !== null);
  const dir = mkdtempSync(join(tmpdir(), 'harrier-tsc-'));
  try {
    const merged = join(dir, 'all.pcapng');
    const m = spawnSync('mergecap', ['-a', '-F', 'pcapng', '-w', merged, ...present.map((rel) => sharedPath(rel) as string)], { encoding: 'utf8', timeout: 30000 });
    if (m.status !== 0) throw new Error(`mergecap failed: ${m.stderr}`);
    const rows = tshark(merged);
    tsRows = new Map();
    let at = 0;
    for (const rel of present) {
      const n = loadFrames(sharedPath(rel) as string).length;
      tsRows.set(rel, rows.slice(at, at + n));
      at += n;
    }
    assert.equal(at, rows.length, 'merged frame count');
    return tsRows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const rel of FILES) {
  test(`matches tshark packet by packet: ${rel.split('/').pop()}`, { skip: noTshark || skipWithoutShared(rel), timeout: 55000 }, () => {
    const path = sharedPath(rel) as string;
    const ts = tsharkAll().get(rel) as TsRow[];
    const frames = loadFrames(path);
    assert.equal(frames.length, ts.length, 'frame count');
    const d = new Decoder();
    const pkt = new Packet();
    let compared = 0;
    frames.forEach((f, i) => {
      pkt.load(f.data, 0, f.data.length, f.data.length, f.tsSec, f.tsNsec, f.linkType);
      const ok = d.decode(pkt);
      const want = expected(ts[i]);
      const where = `${rel} frame ${i + 1} (${ts[i]['frame.protocols'].join(':')})`;
      if (want === null) {
        assert.equal(ok, false, `${where}: tshark sees no IP`);
        return;
      }
      if (!ok && pkt.isFragment) return; // held for reassembly
      assert.equal(ok, true, `${where}: decode failed`);
      assert.equal(pkt.ipVersion, want.v, where);
      if (want.v === 4) {
        assert.equal(ipv4Text(pkt.src4), ipv4Text(ip4(want.src)), `${where}: src`);
        assert.equal(ipv4Text(pkt.dst4), ipv4Text(ip4(want.dst)), `${where}: dst`);
      } else {
        assert.equal(Array.from(pkt.src6).join(','), words6(want.src), `${where}: src`);
        assert.equal(Array.from(pkt.dst6).join(','), words6(want.dst), `${where}: dst`);
      }
      if (want.l4 === 'tcp' || want.l4 === 'udp') {
        assert.equal(pkt.proto, want.l4 === 'tcp' ? 6 : 17, `${where}: proto`);
        assert.equal(pkt.sport, want.sport, `${where}: sport`);
        assert.equal(pkt.dport, want.dport, `${where}: dport`);
      } else if (want.l4 === 'icmp' || want.l4 === 'icmpv6') {
        assert.equal(pkt.icmpType, want.icmp, `${where}: icmp type`);
      }
      const vlans = ts[i]['vlan.id'];
      if (vlans.length > 0) assert.equal(pkt.vlan0, Number(vlans[0]), `${where}: vlan`);
      compared++;
    });
    assert.ok(compared > 0, 'no IP packets compared');
  });
}
