// One test per keyword family, with exact AST expectations, plus the
// Suricata-like validation that rejects rules which cannot match.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRule } from '../../src/detect/rules/index.js';
import type { ContentOp, Rule, RuleParseContext } from '../../src/detect/rules/index.js';
import { allKeywords, validateDeclarations } from '../../src/detect/keywords/registry.js';

const ctx: RuleParseContext = {
  vars: { addressGroups: { HOME_NET: '10.0.0.0/8', EXTERNAL_NET: '!$HOME_NET' }, portGroups: { HTTP_PORTS: '80' } },
  classifications: new Map([['trojan-activity', { name: 'trojan-activity', description: 'A Network Trojan was detected', priority: 1 }]]),
};
const r = (opts: string, proto = 'tcp'): Rule => parseRule(`alert ${proto} any any -> any any (${opts} sid:1;)`, ctx);
const bytes = (s: string) => Uint8Array.from(Buffer.from(s, 'latin1'));
const C = (s: string, extra: Partial<ContentOp> = {}): ContentOp => ({
  kind: 'content',
  bytes: bytes(s),
  nocase: false,
  negated: false,
  offset: null,
  depth: null,
  distance: null,
  within: null,
  startsWith: false,
  endsWith: false,
  fastPattern: false,
  fastPatternOnly: false,
  fastPatternChop: null,
  rawbytes: false,
  ...extra,
});

test('keyword declarations validate: unique lower-case names and aliases, docs, parse functions', () => {
  assert.deepEqual(validateDeclarations(allKeywords()), []);
  const dup = validateDeclarations([...allKeywords(), { name: 'content', value: 'none', doc: 'x', parse() {} }]);
  assert.match(dup[0]!, /declared by both content and content/);
  assert.match(validateDeclarations([{ name: 'Bad', value: 'none', doc: '', parse() {} }]).join('\n'), /lower-case[\s\S]*no description/);
});

test('meta: msg (escapes, UTF-8), sid, rev, gid, classtype → category/priority, priority, reference, metadata, target', () => {
  const rule = parseRule(
    'alert tcp any any -> any any (msg:"a \\"q\\" \\; b \xc3\xa9"; sid:2000001; rev:7; gid:3; classtype:trojan-activity; reference:url,example.com/x; reference:CVE,2021-44228; metadata:created_at 2024_01_01, tag A, tag B; target:dest_ip;)',
    ctx,
  );
  assert.deepEqual(rule.meta, {
    gid: 3,
    sid: 2000001,
    rev: 7,
    msg: 'a "q" ; b é',
    classtype: 'trojan-activity',
    priority: 1,
    category: 'A Network Trojan was detected',
    references: [
      { system: 'url', id: 'example.com/x' },
      { system: 'cve', id: '2021-44228' },
    ],
    metadata: { created_at: ['2024_01_01'], tag: ['A', 'B'] },
    target: 'dest_ip',
  });
  assert.equal(r('classtype:trojan-activity; priority:4;').meta.priority, 4);
  assert.equal(r('msg:"x";').meta.priority, 3);
  assert.equal(r('msg:"x";').meta.rev, 0);
  assert.throws(() => r('classtype:nope;'), /unknown classtype "nope"/);
  assert.throws(() => parseRule('alert tcp any any -> any any (msg:"x";)', ctx), /no sid/);
  assert.throws(() => parseRule('alert tcp any any -> any any (sid:0;)', ctx), /sid: 0 is out of range/);
  assert.throws(() => parseRule('alert tcp any any -> any any (sid:abc;)', ctx), /not a number/);
});

test('content: hex, escapes, negation and every modifier on the previous content', () => {
  const rule = r('content:"GET |20 2f|a\\;b\\"\\\\"; nocase; offset:2; depth:20; content:!"x"; distance:-3; within:var1; content:"zz"; startswith; endswith; fast_pattern:0,1; rawbytes;');
  assert.equal(rule.buffers.length, 1);
  assert.equal(rule.buffers[0]!.buffer, 'pkt_data');
  assert.deepEqual(rule.buffers[0]!.ops, [
    C('GET  /a;b"\\', { nocase: true, offset: 2, depth: 20 }),
    C('x', { negated: true, distance: -3, within: 'var1' }),
    C('zz', { startsWith: true, endsWith: true, fastPattern: true, fastPatternChop: [0, 1], rawbytes: true }),
  ]);
  assert.equal((r('content:"abc"; fast_pattern:only;').buffers[0]!.ops[0] as ContentOp).fastPatternOnly, true);
  assert.throws(() => r('content:"a|4|";'), /odd number of hex digits/);
  assert.throws(() => r('content:"a|4g|";'), /not a hex digit/);
  assert.throws(() => r('content:"a|41";'), /unclosed/);
  assert.throws(() => r('content:"";'), /empty/);
  assert.throws(() => r('content:"\\x";'), /not a valid escape/);
  assert.throws(() => r('nocase;'), /needs a preceding content/);
});

test('content validation like Suricata: within/depth shorter than content, relative+absolute, duplicates, fast_pattern once', () => {
  assert.throws(() => r('content:"abcd"; within:3;'), /within \(3\) is smaller than the content length \(4\)/);
  assert.throws(() => r('content:"abcd"; depth:2;'), /depth \(2\) is smaller/);
  assert.throws(() => r('content:"a"; offset:1; distance:2;'), /cannot mix relative/);
  assert.throws(() => r('content:"a"; depth:5; within:5;'), /cannot mix relative/);
  assert.throws(() => r('content:"a"; nocase; nocase;'), /nocase given twice/);
  assert.throws(() => r('content:"a"; depth:4; depth:5;'), /depth given twice/);
  assert.throws(() => r('content:"a"; fast_pattern; content:"b"; fast_pattern;'), /only one content/);
  assert.throws(() => r('content:"ab"; startswith; offset:1;'), /startswith cannot be combined/);
  assert.throws(() => r('content:"ab"; fast_pattern:1,5;'), /outside the content/);
  assert.throws(() => r('content:!"ab"; fast_pattern:only;'), /negated/);
  assert.throws(() => r('http.uri; content:"abcdef"; bsize:3;', 'http'), /exceeds bsize 3/);
  assert.throws(() => r('http.host; content:"Example.com";', 'http'), /upper-case/);
  assert.doesNotThrow(() => r('http.host; content:"Example.com"; nocase;', 'http'));
});

test('buffers: sticky buffers, old sticky names, legacy modifiers, pkt_data, programs in order of first use', () => {
  const rule = r('content:"POST"; http_method; http.uri; content:"/a"; content:"b"; distance:0; pkt_data; content:"raw"; content:"ua"; http_user_agent; dns_query; content:"x";', 'tcp');
  assert.deepEqual(
    rule.buffers.map((p) => [p.buffer, p.ops.map((o) => Buffer.from((o as ContentOp).bytes).toString())]),
    [
      ['http.method', ['POST']],
      ['http.uri', ['/a', 'b']],
      ['pkt_data', ['raw']],
      ['http.user_agent', ['ua']],
      ['dns.query', ['x']],
    ],
  );
  assert.deepEqual(r('file_data; content:"a"; http.response_body; content:"b";', 'http').buffers.map((p) => [p.buffer, p.ops.length]), [['file.data', 2]]);
  assert.equal(r('uricontent:"/x";', 'http').buffers[0]!.buffer, 'http.uri');
  assert.equal(r('content:"a"; http_client_body;', 'http').buffers[0]!.buffer, 'http.request_body');
  assert.equal(r('content:"a"; http_server_body;', 'http').buffers[0]!.buffer, 'file.data');
  assert.equal(r('content:"a"; http_raw_uri;', 'http').buffers[0]!.buffer, 'http.uri.raw');
  assert.equal(r('tls_sni; content:"a";', 'tls').buffers[0]!.buffer, 'tls.sni');
  assert.equal(r('ja3_hash; content:"a";', 'tls').buffers[0]!.buffer, 'ja3.hash');
  assert.throws(() => r('http.uri; content:"a"; http_header;', 'http'), /cannot follow the sticky buffer http.uri/);
  assert.throws(() => r('http_uri;', 'http'), /needs a preceding content/);
  assert.throws(() => r('http.uri; content:"a";', 'dns'), /does not apply to a "dns" rule/);
});

test('buffers: transforms make a distinct buffer; urilen; isdataat; bsize needs a sticky buffer; tls.subject legacy', () => {
  const rule = r('dns.query; content:"rs-"; startswith; dotprefix; content:".example.com"; endswith;', 'dns');
  assert.deepEqual(
    rule.buffers.map((p) => [p.buffer, p.transforms ?? []]),
    [
      ['dns.query', []],
      ['dns.query', ['dotprefix']],
    ],
  );
  assert.deepEqual(r('urilen:>10;', 'http').buffers, [{ buffer: 'http.uri', ops: [{ kind: 'bsize', cmp: { op: '>', value: 10 } }] }]);
  assert.deepEqual(r('urilen:5<>10,raw;', 'http').buffers, [{ buffer: 'http.uri.raw', ops: [{ kind: 'bsize', cmp: { op: '<>', value: 5, hi: 10 } }] }]);
  assert.deepEqual(r('content:"a"; isdataat:!2,relative;').buffers[0]!.ops[1], { kind: 'isdataat', offset: 2, relative: true, negated: true });
  assert.deepEqual(r('http.uri; bsize:1-5;', 'http').buffers[0]!.ops[0], { kind: 'bsize', cmp: { op: '<>', value: 1, hi: 5 } });
  assert.throws(() => r('bsize:3;'), /needs a sticky buffer/);
  assert.throws(() => r('dotprefix;'), /needs a sticky buffer/);
  const t = r('tls.subject:!"CN=bad|x";', 'tls').buffers[0]!;
  assert.equal(t.buffer, 'tls.cert_subject');
  assert.deepEqual(t.ops[0], C('CN=bad|x', { negated: true }));
  const b64 = r('content:"x"; base64_decode:bytes 10, offset 2, relative; base64_data; content:"evil";');
  assert.deepEqual(b64.buffers[0]!.ops[1], { kind: 'base64_decode', bytes: 10, offset: 2, relative: true });
  assert.equal(b64.buffers[1]!.buffer, 'base64_data');
  assert.throws(() => r('base64_data; content:"x";'), /needs a base64_decode/);
});

test('pcre: flags, buffer letters, negation, relative, captures, JS translation', () => {
  const p = r('content:"a"; pcre:!"/^b(?P<pkt_user>\\w+)$/smiR";').buffers[0]!.ops[1]!;
  assert.equal(p.kind, 'pcre');
  if (p.kind !== 'pcre') return;
  assert.equal(p.negated, true);
  assert.equal(p.relative, true);
  assert.equal(p.jsFlags, 'is');
  assert.deepEqual(p.captures, { pkt_user: 'user' });
  assert.ok(p.source.includes('(?<pkt_user>'));
  const letters: [string, string][] = [
    ['U', 'http.uri'], ['I', 'http.uri.raw'], ['P', 'http.request_body'], ['Q', 'file.data'], ['H', 'http.header'], ['D', 'http.header.raw'],
    ['M', 'http.method'], ['C', 'http.cookie'], ['S', 'http.stat_code'], ['Y', 'http.stat_msg'], ['V', 'http.user_agent'], ['W', 'http.host'], ['Z', 'http.host.raw'],
  ];
  for (const [l, buf] of letters) assert.equal(r(`pcre:"/x/${l}";`, 'http').buffers[0]!.buffer, buf, l);
  const a = r('pcre:"/x/AEGO";').buffers[0]!.ops[0]!;
  assert.ok(a.kind === 'pcre' && a.anchored && a.overrideLimits);
  assert.throws(() => r('pcre:"/x/R";'), /needs a preceding content or pcre/);
  assert.doesNotThrow(() => r('http.uri; pcre:"/x/R";', 'http'));
  assert.throws(() => r('pcre:"/x/UH";', 'http'), /two buffers/);
  assert.throws(() => r('pcre:"/x/k";'), /unknown modifier "k"/);
  assert.throws(() => r('http.uri; pcre:"/x/H";', 'http'), /after the sticky buffer/);
  assert.throws(() => r('pcre:"/Abc/W";', 'http'), /upper-case/);
  assert.throws(() => r('pcre:"/a(?R)/";'), /not supported/);
  assert.throws(() => r('pcre:"/a(/";'), /unbalanced/);
});

test('byte_test, byte_jump, byte_extract, byte_math: exact ops', () => {
  const rule = r(
    'content:"a"; byte_extract:2,0,len,relative,little; byte_test:4,!&,0x10,len,relative,big,bitmask 0xff; byte_jump:2,1,relative,multiplier 2,align,from_beginning,post_offset -2,little,string,hex; byte_math:bytes 2, offset 0, oper +, rvalue len, result sum, relative, endian little;',
  );
  assert.deepEqual(rule.buffers[0]!.ops.slice(1), [
    { kind: 'byte_extract', nbytes: 2, offset: 0, name: 'len', relative: true, multiplier: 1, endian: 'little', string: null, align: 0, bitmask: null },
    { kind: 'byte_test', nbytes: 4, operator: '&', negated: true, value: 16, offset: 'len', relative: true, endian: 'big', string: null, bitmask: 255 },
    { kind: 'byte_jump', nbytes: 2, offset: 1, relative: true, multiplier: 2, endian: 'little', string: 'hex', align: true, fromBeginning: true, fromEnd: false, postOffset: -2, bitmask: null },
    { kind: 'byte_math', nbytes: 2, offset: 0, oper: '+', rvalue: 'len', result: 'sum', relative: true, endian: 'little', string: null, bitmask: null },
  ]);
  assert.deepEqual(r('http.content_len; byte_test:0,=,0,0,string,dec;', 'http').buffers[0]!.ops[0], {
    kind: 'byte_test', nbytes: 0, operator: '=', negated: false, value: 0, offset: 0, relative: false, endian: 'big', string: 'dec', bitmask: null,
  });
  assert.throws(() => r('byte_test:9,=,1,0;'), /more than 8/);
  assert.throws(() => r('byte_test:1,~,1,0;'), /unknown operator/);
  assert.throws(() => r('byte_jump:2,0,from_beginning,from_end;'), /exclusive/);
  assert.throws(() => r('byte_math:bytes 2, offset 0, oper %, rvalue 1, result x;'), /unknown oper/);
  assert.throws(() => r('byte_math:bytes 2, offset 0;'), /needs bytes, offset, oper, rvalue and result/);
});

test('flow, flowbits, flowint, xbits', () => {
  const rule = r('flow:established,to_server,only_stream; flowbits:isset,a|b; flowbits:set,c; flowbits:noalert; flowint:cnt,+,1; flowint:cnt,>,var; xbits:set,bad,track ip_src,expire 60;');
  assert.deepEqual(rule.flow, { established: true, notEstablished: false, stateless: false, toServer: true, toClient: false, onlyStream: true, noStream: false, onlyFrag: false, noFrag: false });
  assert.deepEqual(rule.flowbits, [
    { cmd: 'isset', names: ['a', 'b'], join: '|' },
    { cmd: 'set', names: ['c'], join: '|' },
    { cmd: 'noalert', names: [], join: '|' },
  ]);
  assert.equal(rule.noalert, true);
  assert.deepEqual(rule.flowints, [
    { name: 'cnt', op: '+', value: 1 },
    { name: 'cnt', op: '>', value: 'var' },
  ]);
  assert.deepEqual(rule.xbits, [{ cmd: 'set', name: 'bad', track: 'ip_src', expire: 60 }]);
  assert.deepEqual(r('flowbits:isnotset,a&b;').flowbits, [{ cmd: 'isnotset', names: ['a', 'b'], join: '&' }]);
  assert.equal(r('flow:from_client;').flow!.toServer, true);
  assert.throws(() => r('flow:to_server,to_client;'), /never match/);
  assert.throws(() => r('flow:sideways;'), /unknown option/);
  assert.throws(() => r('flowbits:set,a|b;'), /cannot take a "\|" list/);
  assert.throws(() => r('flowbits:frob,a;'), /unknown command/);
  assert.throws(() => r('flowint:x,isset,3;'), /takes no value/);
  assert.throws(() => r('xbits:set,a;'), /track/);
});

test('packet checks: dsize, ttl, ip_proto, flags, window, seq, ack, itype, icode, icmp_id, icmp_seq, sameip, ipopts, fragbits, stream_size', () => {
  const rule = r('dsize:>100; ttl:<5; ip_proto:!tcp; flags:S+,12; window:!1024; seq:0; ack:5; itype:3<>8; icode:0; icmp_id:7; icmp_seq:9; sameip; ipopts:lsrr; fragbits:+MD; stream_size:server,>=,1000; tcp.flags:!FA;');
  assert.deepEqual(rule.checks, [
    { kind: 'dsize', cmp: { op: '>', value: 100 } },
    { kind: 'ttl', cmp: { op: '<', value: 5 } },
    { kind: 'ip_proto', cmp: { op: '!=', value: 6 } },
    { kind: 'flags', bits: 0x02, mode: '+', ignore: 0xc0 },
    { kind: 'window', value: 1024, negated: true },
    { kind: 'seq', value: 0 },
    { kind: 'ack', value: 5 },
    { kind: 'itype', cmp: { op: '<>', value: 3, hi: 8 } },
    { kind: 'icode', cmp: { op: '=', value: 0 } },
    { kind: 'icmp_id', value: 7 },
    { kind: 'icmp_seq', value: 9 },
    { kind: 'sameip' },
    { kind: 'ipopts', option: 'lsrr' },
    { kind: 'fragbits', bits: 0x6000, mode: '+' },
    { kind: 'stream_size', side: 'server', cmp: { op: '>=', value: 1000 } },
    { kind: 'flags', bits: 0x11, mode: '!', ignore: 0 },
  ]);
  assert.deepEqual(r('dsize:!=0;').checks[0], { kind: 'dsize', cmp: { op: '!=', value: 0 } });
  assert.throws(() => r('dsize:!1-5;'), /negated ranges are not supported/);
  assert.throws(() => r('dsize:&0xc0=0x80;'), /bitmask/);
  assert.throws(() => r('ttl:300;'), /out of range/);
  assert.throws(() => r('flags:Q;'), /unknown flag/);
  assert.throws(() => r('itype:8<>3;'), /empty or reversed/);
});

test('app-layer state: app-layer-protocol, app-layer-event, dns.opcode, tls.version, ssl_version, ssl_state', () => {
  const rule = r('app-layer-protocol:!http; app-layer-event:http.request_field_too_long; dns.opcode:!4; tls.version:1.2; ssl_version:tls1.0,!sslv3; ssl_state:client_hello|!server_hello; tls_cert_expired;');
  assert.deepEqual(rule.checks, [
    { kind: 'app_layer_protocol', proto: 'http', negated: true },
    { kind: 'app_layer_event', event: 'http.request_field_too_long', negated: false },
    { kind: 'dns_opcode', value: 4, negated: true },
    { kind: 'tls_version', value: 0x0303 },
    { kind: 'ssl_version', versions: [0x0301], negated: [0x0300] },
    { kind: 'ssl_state', states: ['client_hello'], negated: ['server_hello'] },
    { kind: 'tls_cert_expired' },
  ]);
  assert.throws(() => r('tls.version:9.9;'), /unknown version/);
  assert.deepEqual(r('decode-event:ipv4.pkt_too_small; stream-event:3whs_synack_in_wrong_direction;').checks, [
    { kind: 'decode_event', event: 'ipv4.pkt_too_small' },
    { kind: 'stream_event', event: '3whs_synack_in_wrong_direction' },
  ]);
});

test('threshold, detection_filter, tag, noalert, prefilter, dataset, ignored side-effect keywords', () => {
  const rule = r('threshold: type limit, track by_src, count 1, seconds 60; tag:session,10,packets; prefilter; noalert; filestore;');
  assert.deepEqual(rule.threshold, { type: 'limit', track: 'by_src', count: 1, seconds: 60 });
  assert.deepEqual(rule.tag, { type: 'session', count: 10, metric: 'packets', direction: null });
  assert.equal(rule.prefilter, true);
  assert.equal(rule.noalert, true);
  assert.deepEqual(rule.checks, [{ kind: 'ignored', keyword: 'filestore' }]);
  assert.deepEqual(r('detection_filter:track by_dst, count 5, seconds 10;').detectionFilter, { track: 'by_dst', count: 5, seconds: 10 });
  assert.deepEqual(r('threshold:type backoff, track by_flow, count 1, multiplier 10;').threshold, { type: 'backoff', track: 'by_flow', count: 1, seconds: 0, multiplier: 10 });
  assert.throws(() => r('threshold:type limit, track by_src, count 1, seconds 60; detection_filter:track by_src, count 1, seconds 1;'), /cannot be combined/);
  assert.throws(() => r('threshold:type limit, track by_host, count 1, seconds 60;'), /unknown track/);
  const ds = parseRule('alert dns any any -> any any (dns.query; dataset:isset,bad, type string, load bad.lst; sid:1;)', { ...ctx, file: '/etc/harrier/rules/x.rules' });
  assert.deepEqual(ds.buffers[0]!.ops[0], { kind: 'dataset', cmd: 'isset', name: 'bad', type: 'string', load: '/etc/harrier/rules/bad.lst', state: null });
});

test('keywords that would change matching but are unsupported fail the rule with a reason; case-insensitive names', () => {
  assert.throws(() => r('lua:script.lua;'), /unsupported keyword "lua"/);
  assert.throws(() => r('content:"a"; asn1:oversize_length 100;'), /unsupported keyword "asn1"/);
  assert.throws(() => r('nocase:1;'), /takes no value/);
  assert.throws(() => r('content;'), /needs a value/);
  assert.equal(parseRule('alert tcp any any -> any any (CONTENT:"a"; NoCase; SID:5;)', ctx).meta.sid, 5);
});

test('docs/reference/keywords.md lists every declared keyword and alias', async () => {
  const { readFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { REPO_ROOT } = await import('../support/shared.js');
  const page = readFileSync(join(REPO_ROOT, 'docs/reference/keywords.md'), 'utf8');
  for (const d of allKeywords()) for (const n of [d.name, ...(d.aliases ?? [])]) assert.ok(page.includes(`\`${n}\``), `${n} missing from keywords.md`);
});
