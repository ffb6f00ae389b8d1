/**
 * HPACK: the RFC 7541 Appendix C examples (C.2 single fields, C.3/C.4 three
 * requests without/with Huffman sharing one dynamic table, C.5/C.6 three
 * responses with a 256-byte table so entries get evicted), Huffman codes
 * against Appendix B, and hostile blocks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  HPACK_ERR_HUFFMAN, HPACK_ERR_INDEX, HPACK_ERR_INTEGER, HPACK_ERR_LIST_TOO_LARGE, HPACK_ERR_SIZE_UPDATE, HPACK_ERR_TRUNCATED,
  HPACK_OK, HpackDecoder, type H2Header,
} from '../../src/applayer/http2/hpack.js';
import { hpackStr } from './http2-support.js';
import { HUFFMAN_CODES, HUFFMAN_LENGTHS, huffmanDecode, huffmanEncode } from '../../src/applayer/http2/huffman.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const fields = (hs: H2Header[]): string[][] => hs.map((h) => [h.name.toString('latin1'), h.value.toString('latin1')]);

function dec(d: HpackDecoder, b: Buffer): string[][] {
  const out: H2Header[] = [];
  assert.equal(d.decode(b, 0, b.length, out), HPACK_OK);
  return fields(out);
}
function table(d: HpackDecoder): string[][] {
  const t: string[][] = [];
  for (let i = 1; i <= d.length; i++) {
    const e = d.entry(i)!;
    t.push([e[0].toString('latin1'), e[1].toString('latin1')]);
  }
  return t;
}

test('C.2.1–C.2.4: literal with/without/never indexing, indexed field', () => {
  const d = new HpackDecoder();
  assert.deepEqual(dec(d, hex('400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572')), [['custom-key', 'custom-header']]);
  assert.deepEqual(table(d), [['custom-key', 'custom-header']]);
  assert.equal(d.size, 55);
  const d2 = new HpackDecoder();
  assert.deepEqual(dec(d2, hex('040c 2f73 616d 706c 652f 7061 7468')), [[':path', '/sample/path']]);
  assert.equal(d2.length, 0);
  const d3 = new HpackDecoder();
  const out: H2Header[] = [];
  const b = hex('1008 7061 7373 776f 7264 0673 6563 7265 74');
  assert.equal(d3.decode(b, 0, b.length, out), HPACK_OK);
  assert.deepEqual(fields(out), [['password', 'secret']]);
  assert.equal(out[0]!.neverIndexed, true);
  assert.equal(d3.length, 0);
  assert.deepEqual(dec(new HpackDecoder(), hex('82')), [[':method', 'GET']]);
});

const C3 = [
  '8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d',
  '8286 84be 5808 6e6f 2d63 6163 6865',
  '8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65',
];
const C4 = [
  '8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff',
  '8286 84be 5886 a8eb 1064 9cbf',
  '8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf',
];
const REQ = [
  [[':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'www.example.com']],
  [[':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'www.example.com'], ['cache-control', 'no-cache']],
  [[':method', 'GET'], [':scheme', 'https'], [':path', '/index.html'], [':authority', 'www.example.com'], ['custom-key', 'custom-value']],
];
const REQ_TABLES = [
  [[[':authority', 'www.example.com']], 57],
  [[['cache-control', 'no-cache'], [':authority', 'www.example.com']], 110],
  [[['custom-key', 'custom-value'], ['cache-control', 'no-cache'], [':authority', 'www.example.com']], 164],
] as const;

for (const [name, blocks] of [['C.3 (plain)', C3], ['C.4 (Huffman)', C4]] as const) {
  test(`${name}: three requests share one dynamic table`, () => {
    const d = new HpackDecoder();
    blocks.forEach((h, i) => {
      assert.deepEqual(dec(d, hex(h)), REQ[i]);
      assert.deepEqual(table(d), REQ_TABLES[i]![0]);
      assert.equal(d.size, REQ_TABLES[i]![1]);
    });
  });
}

const C5 = [
  '4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d',
  '4803 3330 37c1 c0bf',
  '88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d 54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31',
];
const C6 = [
  '4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3',
  '4883 640e ffc1 c0bf',
  '88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07',
];
const DATE1 = 'Mon, 21 Oct 2013 20:13:21 GMT';
const DATE2 = 'Mon, 21 Oct 2013 20:13:22 GMT';
const COOKIE = 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1';
const RES = [
  [[':status', '302'], ['cache-control', 'private'], ['date', DATE1], ['location', 'https://www.example.com']],
  [[':status', '307'], ['cache-control', 'private'], ['date', DATE1], ['location', 'https://www.example.com']],
  [[':status', '200'], ['cache-control', 'private'], ['date', DATE2], ['location', 'https://www.example.com'], ['content-encoding', 'gzip'], ['set-cookie', COOKIE]],
];
const RES_TABLES = [
  [[['location', 'https://www.example.com'], ['date', DATE1], ['cache-control', 'private'], [':status', '302']], 222],
  [[[':status', '307'], ['location', 'https://www.example.com'], ['date', DATE1], ['cache-control', 'private']], 222],
  [[['set-cookie', COOKIE], ['content-encoding', 'gzip'], ['date', DATE2]], 215],
] as const;

for (const [name, blocks] of [['C.5 (plain)', C5], ['C.6 (Huffman)', C6]] as const) {
  test(`${name}: three responses, 256-byte table, eviction`, () => {
    const d = new HpackDecoder();
    // The decoder side announced SETTINGS_HEADER_TABLE_SIZE 256; the encoder uses it.
    const upd = hex('3fe1 01'); // size update to 256
    assert.deepEqual(dec(d, upd), []);
    assert.equal(d.tableLimit, 256);
    blocks.forEach((h, i) => {
      assert.deepEqual(dec(d, hex(h)), RES[i]);
      assert.deepEqual(table(d), RES_TABLES[i]![0]);
      assert.equal(d.size, RES_TABLES[i]![1]);
    });
  });
}

test('Huffman: codes match RFC 7541 Appendix B samples; round trip of every byte value', () => {
  // A few rows of Appendix B: symbol, code (hex, right-aligned), length.
  const rows: [number, number, number][] = [
    [0, 0x1ff8, 13], [32, 0x14, 6], [48, 0x0, 5], [97, 0x3, 5], [101, 0x5, 5], [65, 0x21, 6], [122, 0x7b, 7],
    [255, 0x3ffffee, 26], [256, 0x3fffffff, 30], [10, 0x3ffffffc, 30],
  ];
  for (const [s, c, l] of rows) {
    assert.equal(HUFFMAN_LENGTHS[s], l, `length of ${s}`);
    assert.equal(HUFFMAN_CODES[s], c, `code of ${s}`);
  }
  const all = Buffer.alloc(256 * 3);
  for (let i = 0; i < all.length; i++) all[i] = (i * 7) & 0xff;
  const enc = huffmanEncode(all);
  const out = Buffer.alloc(all.length * 2);
  assert.equal(huffmanDecode(enc, 0, enc.length, out, 0), all.length);
  assert.ok(out.subarray(0, all.length).equals(all));
  for (let n = 0; n < 40; n++) {
    const b = all.subarray(n * 5, n * 5 + n);
    const e = huffmanEncode(b);
    assert.equal(huffmanDecode(e, 0, e.length, out, 0), b.length);
    assert.ok(out.subarray(0, b.length).equals(b));
  }
});

test('Huffman: EOS, long padding, zero padding are errors', () => {
  const out = Buffer.alloc(64);
  assert.equal(huffmanDecode(hex('ffffffff'), 0, 4, out, 0), -1); // EOS (30 ones) inside
  assert.equal(huffmanDecode(hex('ff'), 0, 1, out, 0), -1); // 8 bits of padding
  assert.equal(huffmanDecode(hex('00'), 0, 1, out, 0), -1); // '0' (5 bits 00000) then 3 zero bits: bad padding
  assert.equal(huffmanDecode(hex('07'), 0, 1, out, 0), 1); // '0' + 111 padding
});

test('hostile blocks: bad index, integer overflow, truncation, late size update, oversize update, list limit', () => {
  const bad = (b: Buffer, code: number, d = new HpackDecoder()): void => {
    const out: H2Header[] = [];
    assert.equal(d.decode(b, 0, b.length, out), code, b.toString('hex'));
  };
  bad(hex('80'), HPACK_ERR_INDEX); // index 0
  bad(hex('be'), HPACK_ERR_INDEX); // index 62, empty dynamic table
  bad(hex('ff ff ff ff ff 7f'), HPACK_ERR_INTEGER);
  bad(hex('ff 80 80 80 80 80 80 01'), HPACK_ERR_INTEGER);
  bad(hex('40 0a 63 75'), HPACK_ERR_TRUNCATED);
  bad(hex('ff'), HPACK_ERR_TRUNCATED);
  bad(hex('82 3f e1 01'), HPACK_ERR_SIZE_UPDATE); // update after a field
  bad(hex('3f e1 ff 03'), HPACK_ERR_SIZE_UPDATE); // 65536+ > allowed 4096
  bad(hex('00 81 ff 00'), HPACK_ERR_HUFFMAN);
  // 3 fields of 42+ bytes each > 100: fields dropped, table still updated.
  const many = Buffer.concat(Array.from({ length: 3 }, () => hex('40 03 616263 0a 30313233343536373839')));
  const d = new HpackDecoder(65536, 100);
  const out: H2Header[] = [];
  assert.equal(d.decode(many, 0, many.length, out), HPACK_ERR_LIST_TOO_LARGE);
  assert.equal(out.length, 2);
  assert.equal(d.length, 3);
  assert.equal(d.broken, false);
  // A broken decoder refuses further blocks.
  const b2 = new HpackDecoder();
  bad(hex('be'), HPACK_ERR_INDEX, b2);
  assert.equal(b2.broken, true);
  bad(hex('82'), HPACK_ERR_TRUNCATED, b2);
});

test('dynamic table: an entry larger than the table empties it; SETTINGS raise the allowed size, capped', () => {
  const d = new HpackDecoder(8192);
  dec(d, hex('400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572'));
  assert.equal(d.length, 1);
  const v = Buffer.alloc(5000, 0x41);
  const blk = Buffer.concat([hex('40 01 78'), hpackStr(v)]);
  assert.deepEqual(dec(d, blk), [['x', v.toString('latin1')]]);
  assert.equal(d.length, 0);
  assert.equal(d.size, 0);
  d.setMaxAllowed(1 << 30);
  const out: H2Header[] = [];
  const upd = hex('3f e1 3f'); // 31 + 0x61 + 0x3f*128 = 8192
  assert.equal(d.decode(upd, 0, upd.length, out), HPACK_OK);
  assert.equal(d.tableLimit, 8192);
  const upd2 = hex('3f e2 3f'); // 8193 > cap
  assert.equal(d.decode(upd2, 0, upd2.length, out), HPACK_ERR_SIZE_UPDATE);
});
