// Rule header: addresses and ports with variables, groups, nesting, negation,
// CIDR v4/v6 and ranges, resolved to sorted merged ranges.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRule, resolveAddress, resolvePorts, RuleParseError } from '../../src/detect/rules/index.js';
import type { AddressSet } from '../../src/detect/rules/index.js';

const vars = {
  addressGroups: {
    HOME_NET: '[10.0.0.0/8,192.168.0.0/16]',
    EXTERNAL_NET: '!$HOME_NET',
    DNS_SERVERS: '$HOME_NET',
    LOOP_A: '$LOOP_B',
    LOOP_B: '$LOOP_A',
    V6NET: '2001:db8::/32',
  },
  portGroups: { HTTP_PORTS: '[80,8080,8000:8010]', SHELLCODE_PORTS: '!80', WEB: '[$HTTP_PORTS,443]' },
};

const ip = (s: string): number => s.split('.').reduce((a, b) => a * 256 + Number(b), 0);
const v4 = (a: AddressSet): string[] => {
  const out: string[] = [];
  const f = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
  for (let i = 0; i < a.v4.length; i += 2) out.push(`${f(a.v4[i]!)}-${f(a.v4[i + 1]!)}`);
  return out;
};
const ports = (e: string): number[] => [...resolvePorts(e, vars).ranges];

test('address: any, single, CIDR (unaligned base is masked), netmask and ranges', () => {
  const any = resolveAddress('any', vars);
  assert.equal(any.any, true);
  assert.deepEqual(v4(resolveAddress('1.2.3.4', vars)), ['1.2.3.4-1.2.3.4']);
  assert.deepEqual(v4(resolveAddress('10.1.2.3/16', vars)), ['10.1.0.0-10.1.255.255']);
  assert.deepEqual(v4(resolveAddress('10.0.0.0/255.255.255.0', vars)), ['10.0.0.0-10.0.0.255']);
  assert.deepEqual(v4(resolveAddress('10.0.0.5-10.0.0.9', vars)), ['10.0.0.5-10.0.0.9']);
  assert.equal(resolveAddress('1.2.3.4', vars).v6.length, 0);
});

test('address: variables, negation as complement, groups merge and sort', () => {
  const home = resolveAddress('$HOME_NET', vars);
  assert.deepEqual(v4(home), ['10.0.0.0-10.255.255.255', '192.168.0.0-192.168.255.255']);
  assert.equal(home.any, false);
  const ext = resolveAddress('$EXTERNAL_NET', vars);
  assert.deepEqual(v4(ext), ['0.0.0.0-9.255.255.255', '11.0.0.0-192.167.255.255', '192.169.0.0-255.255.255.255']);
  // the complement of a v4-only set holds all of IPv6
  assert.deepEqual([...ext.v6], [0, 0, 0, 0, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff]);
  assert.deepEqual(v4(resolveAddress('[1.1.1.3,1.1.1.1,1.1.1.2]', vars)), ['1.1.1.1-1.1.1.3']);
});

test('address: nested groups with negation inside and outside', () => {
  // 10/8 minus 10.1/16 plus 10.1.2/24 back in via double negation
  const a = resolveAddress('[10.0.0.0/8,![10.1.0.0/16,!10.1.2.0/24]]', vars);
  assert.deepEqual(v4(a), ['10.0.0.0-10.0.255.255', '10.1.2.0-10.1.2.255', '10.2.0.0-10.255.255.255']);
  const b = resolveAddress('![1.0.0.0/8,2.0.0.0/8]', vars);
  assert.deepEqual(v4(b), ['0.0.0.0-0.255.255.255', '3.0.0.0-255.255.255.255']);
  // a group of only negations starts from everything
  const c = resolveAddress('[!10.0.0.0/8]', vars);
  assert.equal(c.v4[0], 0);
  assert.equal(c.v4[1], ip('9.255.255.255'));
  assert.equal(c.v6.length, 8);
  const d = resolveAddress('[$HOME_NET,!192.168.1.0/24]', vars);
  assert.deepEqual(v4(d), ['10.0.0.0-10.255.255.255', '192.168.0.0-192.168.0.255', '192.168.2.0-192.168.255.255']);
});

test('address: IPv6 CIDR, compressed forms and embedded IPv4', () => {
  const a = resolveAddress('$V6NET', vars);
  assert.deepEqual([...a.v6], [0x20010db8, 0, 0, 0, 0x20010db8, 0xffffffff, 0xffffffff, 0xffffffff]);
  const b = resolveAddress('::ffff:1.2.3.4', vars);
  assert.deepEqual([...b.v6], [0, 0, 0xffff, ip('1.2.3.4'), 0, 0, 0xffff, ip('1.2.3.4')]);
  const c = resolveAddress('[::1, 127.0.0.1]', vars);
  assert.equal(c.v4.length, 2);
  assert.deepEqual([...c.v6], [0, 0, 0, 1, 0, 0, 0, 1]);
});

test('address: errors name the problem', () => {
  assert.throws(() => resolveAddress('$NOPE', vars), (e: Error) => e instanceof RuleParseError && /unknown address variable \$NOPE/.test(e.message));
  assert.throws(() => resolveAddress('!any', vars), /matches nothing/);
  assert.throws(() => resolveAddress('$LOOP_A', vars), /nest too deeply/);
  assert.throws(() => resolveAddress('1.2.3.256', vars), /bad address/);
  assert.throws(() => resolveAddress('[1.2.3.4', vars), /bad address|unbalanced/);
  assert.throws(() => resolveAddress('$HTTP_PORTS', vars), /is a port group/);
});

test('ports: any, single, ranges open on either side, groups, variables, negation', () => {
  assert.equal(resolvePorts('any', vars).any, true);
  assert.deepEqual(ports('80'), [80, 80]);
  assert.deepEqual(ports('1024:'), [1024, 65535]);
  assert.deepEqual(ports(':1024'), [0, 1024]);
  assert.deepEqual(ports('1:5'), [1, 5]);
  assert.deepEqual(ports('$HTTP_PORTS'), [80, 80, 8000, 8010, 8080, 8080]);
  assert.deepEqual(ports('$WEB'), [80, 80, 443, 443, 8000, 8010, 8080, 8080]);
  assert.deepEqual(ports('$SHELLCODE_PORTS'), [0, 79, 81, 65535]);
  assert.deepEqual(ports('[80:100,!99]'), [80, 98, 100, 100]);
  assert.deepEqual(ports('[1:80,![2,4]]'), [1, 1, 3, 3, 5, 80]);
  assert.deepEqual(ports('[!1:65534]'), [0, 0, 65535, 65535]);
  assert.throws(() => resolvePorts('70000', vars), /out of range/);
  assert.throws(() => resolvePorts('10:5', vars), /reversed/);
  assert.throws(() => resolvePorts('$NOPE', vars), /unknown port variable/);
  assert.throws(() => resolvePorts('!any', vars), /matches nothing/);
});

test('header: action, protocol, direction, spaces inside groups', () => {
  const r = parseRule('drop tcp [10.0.0.1, 10.0.0.2] [80, 443] <> $HOME_NET any (sid:1;)', { vars });
  assert.equal(r.header.action, 'drop');
  assert.equal(r.header.proto, 'tcp');
  assert.equal(r.header.bidirectional, true);
  assert.deepEqual(v4(r.header.src), ['10.0.0.1-10.0.0.2']);
  assert.deepEqual([...r.header.srcPorts.ranges], [80, 80, 443, 443]);
  assert.equal(r.header.dstPorts.any, true);
  assert.equal(parseRule('alert HTTP any any -> any any (sid:1;)', { vars }).header.proto, 'http');
  assert.throws(() => parseRule('alert foo any any -> any any (sid:1;)', { vars }), /unknown protocol/);
  assert.throws(() => parseRule('alert tcp any any <- any any (sid:1;)', { vars }), /direction/);
  assert.throws(() => parseRule('notice tcp any any -> any any (sid:1;)', { vars }), /unknown action/);
  assert.throws(() => parseRule('alert tcp any any -> any (sid:1;)', { vars }), /7 fields/);
  assert.throws(() => parseRule('alert tcp $NOPE any -> any any (sid:1;)', { vars }), /unknown address variable/);
});
