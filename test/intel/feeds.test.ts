import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectFormat, isNotAFeed, parseFeedText, type FeedSpec } from '../../src/detect/intel/feeds/registry.js';
import { parseStixPattern } from '../../src/detect/intel/feeds/stix.js';
import { splitCsv } from '../../src/detect/intel/feeds/csv.js';
import { classifyToken, normalizeUrl } from '../../src/detect/intel/normalize.js';
import type { FeedReport, Indicator } from '../../src/detect/intel/types.js';

interface Got extends Indicator {
  feed: string;
  feedCategory: string;
}

function parse(text: string, file: string, spec: FeedSpec = {}): { got: Got[]; r: FeedReport } {
  const got: Got[] = [];
  const r = parseFeedText(text, file, { add: (feed, feedCategory, ind) => got.push({ ...ind, feed, feedCategory }) }, spec);
  return { got, r };
}

const vals = (g: Got[]): string[] => g.map((x) => `${x.kind}:${x.value}${x.port ? ':' + x.port : ''}`);

test('plain list: IPs, CIDRs, ip:port, IPv6, domains, URLs, comments, malformed', () => {
  const { got, r } = parse(
    [
      '# header comment',
      '; another',
      '1.2.3.4',
      '10.0.0.0/8   # trailing comment',
      '5.6.7.8:8080',
      '2001:db8::1',
      '2001:db8::/32 ; c',
      '[2001:db8::2]:443',
      'Evil.Example.COM.',
      '*.wild.example.org',
      'http://bad.example.net/x.php',
      '300.1.1.1',
      'not a domain',
      '1.2.3.4:99999',
      '',
    ].join('\n'),
    'blocklist.txt',
  );
  assert.equal(r.format, 'plain');
  assert.deepEqual(vals(got), [
    'ipv4:1.2.3.4',
    'ipv4:10.0.0.0/8',
    'ipv4:5.6.7.8:8080',
    'ipv6:2001:db8::1',
    'ipv6:2001:db8::/32',
    'ipv6:2001:db8::2:443',
    'domain:evil.example.com',
    'domain:wild.example.org',
    'url:bad.example.net/x.php',
  ]);
  assert.equal(r.malformed, 3);
  assert.deepEqual(r.malformedExamples, ['300.1.1.1', 'not a domain', '1.2.3.4:99999']);
  assert.equal(r.counts.ipv4, 3);
  assert.equal(r.counts.ipv6, 3);
  assert.equal(r.ignored, 2);
});

test('ipsum: IP<TAB>count becomes confidence, category inferred from the name', () => {
  const { got, r } = parse('# IPsum\n1.1.1.1\t8\n2.2.2.2\t2\n3.3.3.3\tx\n', 'ipsum.txt');
  assert.equal(r.format, 'ipsum');
  assert.deepEqual(
    got.map((g) => [g.value, g.confidence]),
    [
      ['1.1.1.1', 100],
      ['2.2.2.2', 25],
    ],
  );
  assert.equal(r.malformed, 1);
  assert.equal(got[0].feedCategory, 'abuse');
});

test('hosts files: sinkhole prefixes, several names per line, localhost ignored', () => {
  const { got, r } = parse('127.0.0.1 localhost\n0.0.0.0 a.example.com b.example.com\n127.0.0.1 c.example.com # x\n1.2.3.4 d.example.com\n', 'coin-hosts');
  assert.equal(r.format, 'hosts');
  assert.deepEqual(vals(got), ['domain:a.example.com', 'domain:b.example.com', 'domain:c.example.com']);
  assert.equal(r.malformed, 1);
  assert.equal(got[0].feedCategory, 'mining');
});

test('adblock: ||domain^, options, IPs, exceptions and cosmetic rules ignored', () => {
  const { got, r } = parse('[Adblock Plus]\n! c\n||evil.com^\n||x.evil.org^$all\n||1.2.3.4^\n@@||good.com^\nexample.com##.ad\n||bad*.com^\n', 'f.txt');
  assert.equal(r.format, 'adblock');
  assert.deepEqual(vals(got), ['domain:evil.com', 'domain:x.evil.org', 'ipv4:1.2.3.4']);
  assert.equal(r.malformed, 1);
});

test('DNS blocklist configurations: dnsmasq, BIND, Unbound, RPZ, tpl', () => {
  const texts = [
    'address=/a.example.com/0.0.0.0\naddress=/b.example.com/0.0.0.0\n',
    'zone "a.example.com" { type master; file "null"; };\n',
    'local-zone: "a.example.com" always_nxdomain\n',
    '$TTL 30\n@ IN SOA localhost. root.localhost. 1 2 3 4 5\n NS localhost.\n\na.example.com CNAME .\n*.b.example.com CNAME .\n',
    'msFilterList\n: Expires=1\n-d a.example.com\n-d b.example.com\n',
  ];
  for (const t of texts) {
    const { got, r } = parse(t, 'f.conf');
    assert.equal(r.format, 'dnszone', t);
    assert.equal(got[0].value, 'a.example.com');
    assert.equal(r.malformed, 0, t);
  }
});

test('URL lists: schemes, match patterns, wildcards inside counted malformed', () => {
  const { got, r } = parse('*://coinhive.com/lib*\nhttp://Evil.COM:80/a%7Eb%2f?q=1\nhttps://x.example.org/\nwss://*.bad.com/p*\n', 'urls.txt');
  assert.equal(r.format, 'urls');
  assert.deepEqual(vals(got), ['url:coinhive.com/lib', 'url:evil.com/a~b%2F?q=1', 'domain:x.example.org']);
  assert.equal(r.malformed, 1);
});

test('CSV presets: Feodo C2, SSLBL JA3 (commented header), SSLBL SHA-1; explicit mapping', () => {
  const feodo = parse(
    '# abuse.ch Feodo\n"first_seen_utc","dst_ip","dst_port","c2_status","last_online","malware"\n"2023-05-23 17:51:44","192.9.135.73","1194","online","2024-04-01","Pikabot"\n"x","999.1.1.1","1","online","","Q"\n',
    'feodotracker.csv',
  );
  assert.equal(feodo.r.format, 'csv');
  assert.deepEqual(vals(feodo.got), ['ipv4:192.9.135.73:1194']);
  assert.equal(feodo.got[0].tag, 'Pikabot');
  assert.equal(feodo.got[0].feedCategory, 'c2');
  assert.equal(feodo.r.malformed, 1);

  const ja3 = parse('#####\n# ja3_md5,Firstseen,Lastseen,Listingreason\nB386946A5A44D1DDCC843BC75336DFCE,2017,2019,Dridex\nzz,1,2,x\n', 'sslbl_ja3.csv');
  assert.deepEqual(vals(ja3.got), ['ja3:b386946a5a44d1ddcc843bc75336dfce']);
  assert.equal(ja3.got[0].tag, 'Dridex');
  assert.equal(ja3.r.malformed, 1);

  const sha = parse('\ufeffSHA1,ListingReason,ListingDate\n19e664f09401bf648b6ea57719e34ad795f3b6cb,AsyncRAT C&C,12/22/2023 6:58\n', 'certs.csv');
  assert.deepEqual(vals(sha.got), ['sha1:19e664f09401bf648b6ea57719e34ad795f3b6cb']);
  assert.equal(sha.got[0].tag, 'AsyncRAT C&C');

  const custom = parse('a;b;c\nx;evil.com;77\n', 'mine.csv', { format: 'csv', options: { delimiter: ';', columns: { value: 'b', confidence: 'c' } } });
  assert.deepEqual(vals(custom.got), ['domain:evil.com']);
  assert.equal(custom.got[0].confidence, 77);
  assert.deepEqual(splitCsv('"a ""q""",b,,"c,d"'), ['a "q"', 'b', '', 'c,d']);
});

test('maltrail: family from file name, category from folder, paths and ip:port', () => {
  const { got, r } = parse(
    '# Copyright (c) 2014-2026 Maltrail developers\n# Aliases: zeus\nevil.com\n1.2.3.4:8080\n/gate.php\nevil.net/panel/x.php\n^regex[0-9]+\\.com\n',
    'maltrail/trails/static/malware/zeus.txt',
  );
  assert.equal(r.format, 'maltrail');
  assert.deepEqual(vals(got), ['domain:evil.com', 'ipv4:1.2.3.4:8080', 'url:/gate.php', 'url:evil.net/panel/x.php']);
  assert.ok(got.every((g) => g.tag === 'zeus' && g.feedCategory === 'malware'));
  assert.equal(r.malformed, 1);
  assert.equal(parse('1.2.3.0/24\n', 'trails/static/mass_scanner_cidr.txt').got[0].feedCategory, 'scanner');
  assert.equal(parse('pool.x.com\n', 'trails/static/suspicious/crypto_mining.txt').got[0].feedCategory, 'mining');
});

test('STIX 2.1: pattern grammar (OR within and between brackets), categories, unsupported forms', () => {
  assert.deepEqual(parseStixPattern("[ipv4-addr:value = '1.2.3.4' OR ipv4-addr:value = '5.6.7.0/24']"), [
    { kind: 'ipv4', value: '1.2.3.4' },
    { kind: 'ipv4', value: '5.6.7.0/24' },
  ]);
  assert.deepEqual(parseStixPattern("[domain-name:value = 'Evil.com'] OR [url:value = 'http://x.org/a']"), [
    { kind: 'domain', value: 'evil.com' },
    { kind: 'url', value: 'x.org/a' },
  ]);
  assert.deepEqual(parseStixPattern("[file:hashes.'SHA-256' = '" + 'a'.repeat(64) + "']"), [{ kind: 'sha256', value: 'a'.repeat(64) }]);
  assert.equal(parseStixPattern("[ipv4-addr:value = '1.2.3.4' AND domain-name:value = 'x.com']"), null);
  assert.equal(parseStixPattern("[ipv4-addr:value != '1.2.3.4']"), null);
  assert.equal(parseStixPattern("[ipv4-addr:value = '1.2.3.4'"), null);
  const bundle = {
    type: 'bundle',
    id: 'bundle--1',
    objects: [
      { type: 'identity', id: 'identity--1' },
      { type: 'indicator', pattern_type: 'stix', pattern: "[ipv6-addr:value = '2001:db8::1']", indicator_types: ['malicious-activity'], confidence: 80, name: 'C2' },
      { type: 'indicator', pattern_type: 'stix', pattern: "[file:hashes.MD5 = '" + 'b'.repeat(32) + "']" },
      { type: 'indicator', pattern_type: 'sigma', pattern: 'whatever' },
      { type: 'indicator', pattern_type: 'stix', pattern: "[process:name = 'x']" },
    ],
  };
  const { got, r } = parse(JSON.stringify(bundle), 'intel.json');
  assert.equal(r.format, 'stix');
  assert.deepEqual(vals(got), ['ipv6:2001:db8::1', 'md5:' + 'b'.repeat(32)]);
  assert.equal(got[0].confidence, 80);
  assert.equal(got[0].category, 'malware');
  assert.equal(r.malformed, 1);
  assert.equal(parse('{"type":"bundle", broken', 'x.json', { format: 'stix' }).r.malformed, 1);
});

test('MISP events: attribute types, objects, tags to category, unknown types ignored', () => {
  const ev = {
    Event: {
      info: 'Mining campaign',
      Tag: [{ name: 'tlp:white' }],
      Attribute: [
        { type: 'ip-dst', value: '1.2.3.4' },
        { type: 'ip-dst|port', value: '5.6.7.8|3333' },
        { type: 'domain', value: 'Pool.Evil.com' },
        { type: 'hostname', value: 'h.evil.com' },
        { type: 'url', value: 'http://evil.com/x' },
        { type: 'sha256', value: 'c'.repeat(64) },
        { type: 'ja3-fingerprint-md5', value: 'd'.repeat(32) },
        { type: 'comment', value: 'hello' },
        { type: 'ip-src', value: 'nope' },
      ],
      Object: [{ Attribute: [{ type: 'x509-fingerprint-sha1', value: 'e'.repeat(40) }] }],
    },
  };
  const { got, r } = parse(JSON.stringify({ response: [ev] }), 'event.json');
  assert.equal(r.format, 'misp');
  assert.deepEqual(vals(got), [
    'ipv4:1.2.3.4',
    'ipv4:5.6.7.8:3333',
    'domain:pool.evil.com',
    'domain:h.evil.com',
    'url:evil.com/x',
    'sha256:' + 'c'.repeat(64),
    'ja3:' + 'd'.repeat(32),
    'sha1:' + 'e'.repeat(40),
  ]);
  assert.equal(got[0].category, 'mining');
  assert.equal(got[0].tag, 'Mining campaign');
  assert.equal(r.malformed, 1);
  assert.equal(r.ignored, 1);
});

test('detection and non-feeds', () => {
  assert.equal(detectFormat('0.0.0.0 a.com\n0.0.0.0 b.com\n', 'x').name, 'hosts');
  assert.equal(detectFormat('1.2.3.4\n5.6.7.8\n', 'x').name, 'plain');
  assert.ok(isNotAFeed('README.md', ''));
  assert.ok(isNotAFeed('x.txt', 'alert http $HOME_NET any -> $EXTERNAL_NET any (msg:"x"; sid:1;)\n'));
  assert.ok(!isNotAFeed('list.txt', 'evil.com\n'));
  assert.throws(() => parse('x', 'f', { format: 'nope' }), /unknown intel feed format/);
});

test('URL normalisation', () => {
  assert.equal(normalizeUrl('HTTP://Ex.COM:80'), 'ex.com/');
  assert.equal(normalizeUrl('https://ex.com:443/A%2dB%41?x=%2f#frag'), 'ex.com/A-BA?x=%2F');
  assert.equal(normalizeUrl('http://ex.com:8080/p'), 'ex.com:8080/p');
  assert.equal(normalizeUrl('http://user@ex.com/p'), 'ex.com/p');
  assert.equal(normalizeUrl('ex.com'), null);
  assert.equal(classifyToken('*.1.2.3.4')?.kind, 'ipv4');
});

test('fuzz: line parsers never throw on random and mutated input', () => {
  const seeds = [
    '1.2.3.4\n10.0.0.0/8\n',
    '0.0.0.0 a.com\n',
    '||a.com^$all\n',
    '"a","b"\n"1.2.3.4","80"\n',
    '{"type":"bundle","objects":[{"type":"indicator","pattern":"[ipv4-addr:value = \'1.2.3.4\']"}]}',
    '{"Event":{"Attribute":[{"type":"domain","value":"a.com"}]}}',
    'address=/a.com/0.0.0.0\n',
    '1.2.3.4\t5\n',
  ];
  const alphabet = '0123456789abcdef.:/[]|^$*#;," \t\n{}\'=ORAND-_%\\\u00e9\ufeff';
  let seed = 12345;
  const rnd = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  const iterations = Number(process.env.HARRIER_FUZZ_ITERATIONS ?? 3000);
  const formats = ['plain', 'ipsum', 'hosts', 'adblock', 'dnszone', 'urls', 'csv', 'maltrail', 'stix', 'misp'];
  for (let i = 0; i < iterations; i++) {
    let s = seeds[rnd(seeds.length)];
    const edits = 1 + rnd(8);
    for (let e = 0; e < edits; e++) {
      const p = rnd(s.length + 1);
      const op = rnd(3);
      if (op === 0) s = s.slice(0, p) + alphabet[rnd(alphabet.length)] + s.slice(p);
      else if (op === 1) s = s.slice(0, p) + s.slice(p + 1);
      else s = s.slice(0, p) + s.slice(rnd(s.length + 1));
    }
    const fmt = formats[rnd(formats.length)];
    const { r } = parse(s, 'maltrail/trails/static/malware/f.txt', { format: fmt });
    assert.ok(r.malformed >= 0);
    parse(s, 'fuzz.txt');
  }
});
