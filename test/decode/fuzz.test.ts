/**
 * Fuzz: mutations and truncations of real and hand-built packets through the
 * decoder. Properties checked: decode never throws, returns a boolean,
 * offsets it reports stay inside the packet's buffer, and defragmentation
 * memory stays under its memcap.
 *
 * 50k mutations by default (a few seconds); HARRIER_FUZZ_ITERATIONS=1000000
 * for a long run (`npm run fuzz:decode`), HARRIER_FUZZ_SEED to replay one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Decoder } from '../../src/decode/decoder.js';
import { Packet } from '../../src/decode/packet.js';
import { sharedPath } from '../support/shared.js';
import { eth, icmp4, icmp6, ipv4, ipv6, tcp, udp } from './build.js';
import { loadFrames } from './frames.js';

const ITERATIONS = Number(process.env.HARRIER_FUZZ_ITERATIONS ?? 50_000);
const SEED = Number(process.env.HARRIER_FUZZ_SEED ?? 0x5eed1234);
const MEMCAP = 256 * 1024;

/** xorshift32: deterministic, so a failing seed can be replayed. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

interface Seed {
  data: Buffer;
  linkType: number;
}

function handBuilt(): Seed[] {
  const inner = eth(0x0800, ipv4({ src: '10.244.1.5', dst: '10.244.2.7', proto: 6, payload: tcp({ src: '10.244.1.5', dst: '10.244.2.7', options: Buffer.from([2, 4, 5, 0xb4, 1, 3, 3, 7]) }) }));
  const vx = Buffer.concat([Buffer.from([8, 0, 0, 0, 0, 0, 42, 0]), inner]);
  const gen = Buffer.concat([Buffer.from([1, 0, 0x65, 0x58, 0, 0, 7, 0, 1, 2, 3, 4]), inner]);
  const greKey = Buffer.concat([Buffer.from([0x20, 0, 0x65, 0x58, 0, 0, 0, 9]), inner]);
  const pptp = Buffer.concat([Buffer.from([0x30, 1, 0x88, 0x0b, 0, 0, 0, 9, 0, 0, 0, 1, 0xff, 3, 0, 0x21]), inner.subarray(14)]);
  const hop = Buffer.from([6, 0, 1, 4, 0, 0, 0, 0]);
  const fragA = Buffer.concat([Buffer.from([17, 0, 0, 1, 0, 0, 0, 7]), udp({ v: 6, payload: Buffer.alloc(40, 1) }).subarray(0, 32)]);
  const fragB = Buffer.concat([Buffer.from([17, 0, 0, 32, 0, 0, 0, 7]), udp({ v: 6, payload: Buffer.alloc(40, 1) }).subarray(32)]);
  const l4 = udp({ payload: Buffer.alloc(100, 2) });
  const list: Buffer[] = [
    inner,
    eth(0x0800, ipv4({ proto: 17, payload: udp({ dport: 4789, payload: vx }) })),
    eth(0x86dd, ipv6({ nh: 17, payload: udp({ v: 6, dport: 6081, payload: gen }) })),
    eth(0x0800, ipv4({ proto: 47, payload: greKey })),
    eth(0x0800, ipv4({ proto: 47, payload: pptp })),
    eth(0x0800, ipv4({ proto: 4, payload: inner.subarray(14) })),
    eth(0x0800, ipv4({ proto: 41, payload: ipv6({ nh: 58, payload: icmp6(128, 0, Buffer.alloc(8)) }) })),
    eth(0x86dd, ipv6({ nh: 0, payload: Buffer.concat([hop, tcp({ v: 6 })]) })),
    eth(0x86dd, ipv6({ nh: 44, payload: fragA })),
    eth(0x86dd, ipv6({ nh: 44, payload: fragB })),
    eth(0x0800, ipv4({ proto: 17, id: 9, flags: 1, payload: l4.subarray(0, 64) })),
    eth(0x0800, ipv4({ proto: 17, id: 9, fragOff: 64, payload: l4.subarray(64) })),
    eth(0x0800, ipv4({ proto: 1, payload: icmp4(3, 3, Buffer.concat([Buffer.alloc(4), inner.subarray(14, 14 + 28)])) })),
    eth(0x0800, ipv4({ proto: 6, options: Buffer.from([0x44, 12, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0]), payload: tcp({}) }), [[0x88a8, 5], [0x8100, 6]]),
    eth(0x8864, Buffer.concat([Buffer.from([0x11, 0, 0, 1, 0, 50]), Buffer.from([0, 0x21]), inner.subarray(14, 62)])),
    eth(0x8847, Buffer.concat([Buffer.from([0, 6, 0x41, 0x40]), inner.subarray(14)])),
  ];
  return list.map((data) => ({ data, linkType: 1 }));
}

function realSeeds(): Seed[] {
  const out: Seed[] = [];
  for (const f of ['ip_frag_source.pcapng', 'ipv6_fragments.pcapng', 'http_ip4and6.pcapng', 'icmp_traceroute.pcapng', 'dns_tcp.pcapng', 'tcp_handshake.pcapng']) {
    const p = sharedPath(`pcaps/chrissanders/${f}`);
    if (p === null) continue;
    for (const fr of loadFrames(p).slice(0, 40)) out.push({ data: fr.data, linkType: fr.linkType });
  }
  return out;
}

const LINK_TYPES = [1, 113, 276, 101, 228, 229, 0, 108, 9, 50, 12, 14];
const INTERESTING = [0, 1, 2, 4, 5, 6, 8, 0x11, 0x29, 0x2c, 0x2f, 0x3a, 0x3b, 0x40, 0x45, 0x60, 0x7f, 0x80, 0x81, 0x86, 0xdd, 0xfe, 0xff];

function mutate(r: () => number, s: Buffer): Buffer {
  let b = Buffer.from(s);
  const ops = 1 + (r() % 4);
  for (let k = 0; k < ops; k++) {
    if (b.length === 0) break;
    switch (r() % 6) {
      case 0: // flip bits
        b[r() % b.length] ^= 1 << (r() % 8);
        break;
      case 1: // interesting byte
        b[r() % b.length] = INTERESTING[r() % INTERESTING.length];
        break;
      case 2: // truncate
        b = b.subarray(0, r() % (b.length + 1));
        break;
      case 3: // random 16-bit value (lengths, ports, ethertypes)
        if (b.length >= 2) b.writeUInt16BE(r() & 0xffff, r() % (b.length - 1));
        break;
      case 4: // insert or delete a few bytes
        if (r() & 1) {
          const at = r() % b.length;
          b = Buffer.concat([b.subarray(0, at), Buffer.from([r() & 255, r() & 255, r() & 255, r() & 255].slice(0, 1 + (r() % 4))), b.subarray(at)]);
        } else {
          const at = r() % b.length;
          b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + (r() % 4)))]);
        }
        break;
      default: // random byte
        b[r() % b.length] = r() & 255;
    }
  }
  return b;
}

test(`decoder fuzz: ${ITERATIONS} mutated packets, no exception, bounded memory (seed ${SEED})`, () => {
  const seeds = [...handBuilt(), ...realSeeds()];
  assert.ok(seeds.length > 10);
  const r = rng(SEED);
  const dec = new Decoder({ checksumValidation: true, defrag: { memcap: MEMCAP, maxTrackers: 512 } });
  const pkt = new Packet();
  let ipCount = 0;
  let now = 1000;
  for (let i = 0; i < ITERATIONS; i++) {
    const seed = seeds[r() % seeds.length];
    const data = mutate(r, seed.data);
    // Usually the seed's link type; sometimes another, to push bytes through every link decoder.
    const lt = r() % 10 === 0 ? LINK_TYPES[r() % LINK_TYPES.length] : seed.linkType;
    // Sometimes place the frame at an offset inside a larger buffer, as capture readers do.
    const pad = r() % 4 === 0 ? r() % 16 : 0;
    const buf = pad === 0 ? data : Buffer.concat([Buffer.alloc(pad, 0xee), data, Buffer.alloc(r() % 8, 0xee)]);
    pkt.data = buf;
    pkt.frameOff = pad;
    pkt.capLen = data.length;
    pkt.origLen = data.length;
    pkt.tsSec = now;
    pkt.tsNsec = 0;
    pkt.linkType = lt;
    let ok: boolean;
    try {
      ok = dec.decode(pkt);
    } catch (e) {
      assert.fail(`decode threw on iteration ${i} (seed ${SEED}, link type ${lt}, frame ${data.toString('hex')}): ${(e as Error).stack}`);
    }
    assert.equal(typeof ok, 'boolean');
    if (ok) {
      ipCount++;
      assert.ok(pkt.ipVersion === 4 || pkt.ipVersion === 6, `iteration ${i}: ok without an IP layer`);
      assert.ok(pkt.payloadOff >= 0 && pkt.payloadLen >= 0 && pkt.payloadOff + pkt.payloadLen <= pkt.data.length, `iteration ${i}: payload out of bounds`);
      assert.ok(pkt.l3Off + pkt.l3Len <= pkt.data.length, `iteration ${i}: l3 out of bounds`);
      if (!pkt.reassembled) {
        // Nothing the decoder reports may reach past the captured frame into the bytes around it.
        const end = pad + data.length;
        assert.ok(pkt.payloadOff >= pad && pkt.payloadOff + pkt.payloadLen <= end, `iteration ${i}: payload outside the frame (lt ${lt}, pad ${pad}, payload ${pkt.payloadOff}+${pkt.payloadLen}, frame ${data.toString('hex')})`);
        assert.ok(pkt.l3Off >= pad && pkt.l3Off + pkt.l3Len <= end, `iteration ${i}: l3 outside the frame`);
        assert.ok(pkt.l4Off <= end, `iteration ${i}: l4 outside the frame`);
      }
    }
    assert.ok(pkt.eventCount <= pkt.events.length);
    if ((i & 1023) === 0) {
      now += 7;
      dec.expire(now);
      assert.ok(dec.defrag.memuse <= MEMCAP, `memuse ${dec.defrag.memuse} over memcap`);
    }
  }
  const s = dec.stats();
  assert.ok(s['defrag.memuse'] <= MEMCAP);
  assert.equal(s['decoder.pkts'], ITERATIONS);
  assert.ok(ipCount > ITERATIONS / 10, `only ${ipCount} packets reached IP: mutations too destructive to be useful`);
});
