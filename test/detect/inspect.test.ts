/**
 * Golden semantics of the buffer inspection engine (src/detect/engine/inspect.ts):
 * hand-made buffers with the expected verdict, following the examples and
 * rules of Suricata 7's user guide (payload keywords, content modifiers,
 * byte_test/jump/extract/math, isdataat, bsize, base64, datasets) and its
 * content inspection engine's backtracking.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BufferOp, ContentOp, PcreOp, ByteTestOp, ByteJumpOp, ByteExtractOp, ByteMathOp, IntCompare } from '../../src/detect/rules/ast.js';
import { compileProgram, runProgram, InspectState, RuleVars, InspectCompileError, INSPECTION_RECURSION_LIMIT } from '../../src/detect/engine/inspect.js';
import { DatasetRegistry } from '../../src/detect/engine/datasets.js';
import { decodeBase64Relaxed } from '../../src/detect/engine/base64.js';

type C = Partial<Omit<ContentOp, 'kind' | 'bytes'>>;
function content(s: string | Uint8Array, o: C = {}): ContentOp {
  return {
    kind: 'content', bytes: typeof s === 'string' ? Buffer.from(s, 'latin1') : s, nocase: false, negated: false,
    offset: null, depth: null, distance: null, within: null, startsWith: false, endsWith: false,
    fastPattern: false, fastPatternOnly: false, fastPatternChop: null, rawbytes: false, ...o,
  };
}
function pcre(source: string, o: Partial<Omit<PcreOp, 'kind' | 'source'>> = {}): PcreOp {
  return { kind: 'pcre', source, jsFlags: '', negated: false, relative: false, anchored: false, raw: `/${source}/`, overrideLimits: false, captures: {}, ...o };
}
function byteTest(nbytes: number, operator: ByteTestOp['operator'], value: number | string, offset: number | string, o: Partial<ByteTestOp> = {}): ByteTestOp {
  return { kind: 'byte_test', nbytes, operator, negated: false, value, offset, relative: false, endian: 'big', string: null, bitmask: null, ...o };
}
function byteJump(nbytes: number, offset: number | string, o: Partial<ByteJumpOp> = {}): ByteJumpOp {
  return { kind: 'byte_jump', nbytes, offset, relative: false, multiplier: 1, endian: 'big', string: null, align: false, fromBeginning: false, fromEnd: false, postOffset: 0, bitmask: null, ...o };
}
function byteExtract(nbytes: number, offset: number, name: string, o: Partial<ByteExtractOp> = {}): ByteExtractOp {
  return { kind: 'byte_extract', nbytes, offset, name, relative: false, multiplier: 1, endian: 'big', string: null, align: 0, bitmask: null, ...o };
}
function byteMath(nbytes: number, offset: number | string, oper: ByteMathOp['oper'], rvalue: number | string, result: string, o: Partial<ByteMathOp> = {}): ByteMathOp {
  return { kind: 'byte_math', nbytes, offset, oper, rvalue, result, relative: false, endian: 'big', string: null, bitmask: null, ...o };
}
function bsize(cmp: IntCompare): BufferOp {
  return { kind: 'bsize', cmp };
}
function isdataat(offset: number | string, relative = false, negated = false): BufferOp {
  return { kind: 'isdataat', offset, relative, negated };
}

const st = new InspectState();
function run(ops: BufferOp[], data: string | Buffer, extra: { b64?: BufferOp[]; datasets?: DatasetRegistry } = {}): boolean {
  const vars = new RuleVars();
  const p = compileProgram({ buffer: 'pkt_data', ops }, vars, {
    ...(extra.b64 ? { base64Data: { buffer: 'base64_data', ops: extra.b64 } } : {}),
    ...(extra.datasets ? { datasets: extra.datasets } : {}),
  });
  // Place the buffer inside a larger one to check that off/len are honoured.
  const b = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
  const outer = Buffer.concat([Buffer.from('ZZZZabc'), b, Buffer.from('abcZZZZ')]);
  return runProgram(p, outer, 7, b.length, st);
}

test('content: plain, nocase, binary', () => {
  assert.equal(run([content('GET')], 'GET / HTTP/1.1'), true);
  assert.equal(run([content('get')], 'GET / HTTP/1.1'), false);
  assert.equal(run([content('get', { nocase: true })], 'GET / HTTP/1.1'), true);
  assert.equal(run([content(Uint8Array.from([0, 0xff, 0x41]))], Buffer.from([1, 0, 0xff, 0x41, 2])), true);
  assert.equal(run([content(Uint8Array.from([0, 0xff, 0x61]), { nocase: true })], Buffer.from([1, 0, 0xff, 0x41, 2])), true);
  // Pattern longer than the buffer; the buffer's neighbours ("abc") must not be seen.
  assert.equal(run([content('xyzabc')], 'xyz'), false);
  assert.equal(run([content('a')], ''), false);
});

test('content: offset and depth (depth counts from offset)', () => {
  assert.equal(run([content('abc', { offset: 3, depth: 3 })], 'xxxabc'), true);
  assert.equal(run([content('abc', { offset: 3, depth: 3 })], 'xxxxabc'), false);
  assert.equal(run([content('abc', { offset: 3, depth: 4 })], 'xxxxabc'), true);
  assert.equal(run([content('abc', { depth: 3 })], 'abcd'), true);
  assert.equal(run([content('abc', { depth: 3 })], 'xabc'), false);
  assert.equal(run([content('abc', { offset: 2 })], 'abcabc'), true);
  assert.equal(run([content('abc', { offset: 4 })], 'abcabc'), false);
});

test('content: startswith / endswith', () => {
  assert.equal(run([content('GET', { startsWith: true })], 'GET /'), true);
  assert.equal(run([content('GET', { startsWith: true })], ' GET /'), false);
  assert.equal(run([content('.exe', { endsWith: true })], '/a.exe'), true);
  assert.equal(run([content('.exe', { endsWith: true })], '/a.exe?x'), false);
  // endswith retries to a later occurrence at the end.
  assert.equal(run([content('.exe', { endsWith: true })], '/a.exe/b.exe'), true);
  assert.equal(run([content('abc', { startsWith: true, endsWith: true })], 'abc'), true);
  assert.equal(run([content('abc', { startsWith: true, endsWith: true })], 'abcabc'), false);
});

test('content: distance and within relative to the previous match', () => {
  // User guide: content:"one"; content:"two"; distance:0; → two after one.
  assert.equal(run([content('one'), content('two', { distance: 0 })], 'one two'), true);
  assert.equal(run([content('one'), content('two', { distance: 0 })], 'two one'), false);
  // within: the second pattern must end within N bytes after the first match.
  assert.equal(run([content('one'), content('two', { within: 4 })], 'one two'), true);
  assert.equal(run([content('one'), content('two', { within: 3 })], 'one two'), false);
  assert.equal(run([content('one'), content('two', { distance: 1, within: 3 })], 'one two'), true);
  assert.equal(run([content('one'), content('two', { distance: 2, within: 3 })], 'one two'), false);
  // Negative distance: look back into the previous match.
  assert.equal(run([content('bcd'), content('ab', { distance: -4, within: 2 })], 'abcde'), true);
  assert.equal(run([content('bcd'), content('ab', { distance: -3, within: 2 })], 'abcde'), false);
  // Negative distance reaching before the buffer start is clamped to 0.
  assert.equal(run([content('b'), content('a', { distance: -10 })], 'ab'), true);
});

test('content: backtracking retries an earlier match at its next occurrence', () => {
  // First "A" is not followed by "B" within 3; the second is.
  const ops = [content('A'), content('B', { distance: 0, within: 3 })];
  assert.equal(run(ops, 'A.....xB  A-B'), true);
  assert.equal(run(ops, 'A.....xB  A---B'), false);
  // Three levels: A, then B within 2, then C within 2 — only the third A works.
  const ops3 = [content('A'), content('B', { distance: 0, within: 2 }), content('C', { distance: 0, within: 2 })];
  assert.equal(run(ops3, 'AB...C AxB AB--C AB-C'), true);
  assert.equal(run(ops3, 'AB...C AxB AB--C AB--C'), false);
  // A later absolute content does not depend on the first: no retry, and no match.
  assert.equal(run([content('A'), content('Z', { depth: 1 })], 'A A A'), false);
  // byte_test relative to the content is retried with the next occurrence.
  assert.equal(run([content('L'), byteTest(1, '=', 0x39, 0, { relative: true })], 'L1 L2 L9'), true);
  assert.equal(run([content('L'), byteTest(1, '=', 0x39, 0, { relative: true })], 'L1 L2 L8'), false);
});

test('content: negation', () => {
  assert.equal(run([content('evil', { negated: true })], 'good stuff'), true);
  assert.equal(run([content('evil', { negated: true })], 'an evil thing'), false);
  // Negated relative: "a" not directly followed by "b".
  const ops = [content('a'), content('b', { negated: true, distance: 0, within: 1 })];
  assert.equal(run(ops, 'ac'), true);
  assert.equal(run(ops, 'ab'), false);
  // ...retried: the second "a" is not followed by "b".
  assert.equal(run(ops, 'ab ac'), true);
  // Negated with depth.
  assert.equal(run([content('x', { negated: true, depth: 2 })], 'aax'), true);
  assert.equal(run([content('x', { negated: true, depth: 3 })], 'aax'), false);
  // Negated endswith: matches when the pattern is not at the end.
  assert.equal(run([content('.exe', { negated: true, endsWith: true })], 'a.exe.txt'), true);
  assert.equal(run([content('.exe', { negated: true, endsWith: true })], 'a.txt.exe'), false);
});

test('isdataat: absolute, relative, negated', () => {
  assert.equal(run([isdataat(4)], 'abcde'), true);
  assert.equal(run([isdataat(5)], 'abcde'), false);
  assert.equal(run([isdataat(5, false, true)], 'abcde'), true);
  // isdataat:1,relative after a content: at least one more byte.
  assert.equal(run([content('abc'), isdataat(1, true)], 'abcd'), true);
  assert.equal(run([content('abc'), isdataat(1, true)], 'xabc'), false);
  // isdataat:!1,relative: the content is at the end.
  assert.equal(run([content('abc'), isdataat(1, true, true)], 'xabc'), true);
  assert.equal(run([content('abc'), isdataat(1, true, true)], 'abc abc!'), false);
  // ...with a retry to the occurrence at the end.
  assert.equal(run([content('abc'), isdataat(1, true, true)], 'abc abc'), true);
});

test('bsize', () => {
  assert.equal(run([bsize({ op: '=', value: 5 })], 'abcde'), true);
  assert.equal(run([bsize({ op: '<', value: 5 })], 'abcde'), false);
  assert.equal(run([bsize({ op: '>=', value: 5 })], 'abcde'), true);
  assert.equal(run([bsize({ op: '<>', value: 4, hi: 6 })], 'abcde'), true);
  assert.equal(run([bsize({ op: '<>', value: 5, hi: 6 })], 'abcde'), false);
  assert.equal(run([bsize({ op: '-', value: 5, hi: 6 })], 'abcde'), true);
  assert.equal(run([bsize({ op: '=', value: 0 })], ''), true);
  assert.equal(run([content('ab'), bsize({ op: '=', value: 5 })], 'abcde'), true);
});

test('byte_test: endianness, operators, negation, string, bitmask, relative', () => {
  const b = Buffer.from([0x01, 0x02, 0x03, 0x04]);
  assert.equal(run([byteTest(2, '=', 0x0102, 0)], b), true);
  assert.equal(run([byteTest(2, '=', 0x0201, 0, { endian: 'little' })], b), true);
  assert.equal(run([byteTest(2, '=', 0x0201, 0, { endian: 'dce' })], b), true);
  assert.equal(run([byteTest(4, '>', 0x01020303, 0)], b), true);
  assert.equal(run([byteTest(4, '>', 0x01020304, 0)], b), false);
  assert.equal(run([byteTest(4, '>=', 0x01020304, 0)], b), true);
  assert.equal(run([byteTest(1, '<', 4, 3)], b), false);
  assert.equal(run([byteTest(1, '<=', 4, 3)], b), true);
  assert.equal(run([byteTest(1, '&', 0x04, 3)], b), true);
  assert.equal(run([byteTest(1, '&', 0x08, 3)], b), false);
  assert.equal(run([byteTest(1, '^', 0x04, 3)], b), false);
  assert.equal(run([byteTest(1, '=', 4, 3, { negated: true })], b), false);
  assert.equal(run([byteTest(1, '=', 5, 3, { negated: true })], b), true);
  // Out of the buffer: no match (and negation does not turn it into one).
  assert.equal(run([byteTest(2, '=', 0, 3)], b), false);
  assert.equal(run([byteTest(2, '=', 0, 3, { negated: true })], b), false);
  // 8-byte big-endian value.
  assert.equal(run([byteTest(8, '=', 0x0102030405, 0)], Buffer.from([0, 0, 0, 1, 2, 3, 4, 5])), true);
  // String numbers as strtoull reads them.
  assert.equal(run([byteTest(3, '=', 123, 0, { string: 'dec' })], '123abc'), true);
  assert.equal(run([byteTest(3, '=', 12, 0, { string: 'dec' })], '12a'), true);
  assert.equal(run([byteTest(3, '=', 0, 0, { string: 'dec' })], 'abc'), false);
  assert.equal(run([byteTest(4, '=', 0x1f, 0, { string: 'hex' })], '0x1f'), true);
  assert.equal(run([byteTest(2, '=', 0xff, 0, { string: 'hex' })], 'ffz'), true);
  assert.equal(run([byteTest(3, '=', 8, 0, { string: 'oct' })], '010'), true);
  assert.equal(run([byteTest(4, '=', 42, 0, { string: 'dec' })], ' 42x'), true);
  // Bitmask: masked and shifted right by the mask's trailing zeros.
  assert.equal(run([byteTest(1, '=', 0x3, 0, { bitmask: 0x30 })], Buffer.from([0xf3 ^ 0xc0])), true);
  assert.equal(run([byteTest(2, '=', 0x0f, 0, { bitmask: 0x0ff0 })], Buffer.from([0x00, 0xf0])), true);
  // Relative (to the end of the last match), negative offset allowed.
  assert.equal(run([content('LEN'), byteTest(1, '=', 7, 0, { relative: true })], Buffer.from('LEN\x07')), true);
  assert.equal(run([content('LEN'), byteTest(1, '=', 0x4e, -1, { relative: true })], 'LEN\x07'), true);
});

test('byte_jump: jumps, multiplier, align, post_offset, from_beginning, from_end', () => {
  // Length byte 3, skip 3 bytes, then "X" must follow right away.
  const jumpThenX = (o: Partial<ByteJumpOp> = {}) => [byteJump(1, 0, o), content('X', { distance: 0, within: 1 })];
  assert.equal(run(jumpThenX(), Buffer.from('\x03abcX', 'latin1')), true);
  assert.equal(run(jumpThenX(), Buffer.from('\x03abX', 'latin1')), false);
  assert.equal(run(jumpThenX({ multiplier: 2 }), Buffer.from('\x02abcdX', 'latin1')), true);
  // align rounds the jump up to a multiple of 4.
  assert.equal(run(jumpThenX({ align: true }), Buffer.from('\x03abcdX', 'latin1')), true);
  assert.equal(run(jumpThenX({ align: true }), Buffer.from('\x03abcX', 'latin1')), false);
  assert.equal(run(jumpThenX({ align: true }), Buffer.from('\x04abcdX', 'latin1')), true);
  assert.equal(run(jumpThenX({ postOffset: 2 }), Buffer.from('\x01a..X', 'latin1')), true);
  assert.equal(run(jumpThenX({ postOffset: -1 }), Buffer.from('\x02aXb', 'latin1')), true);
  // from_beginning: the jump counts from the buffer start.
  assert.equal(run(jumpThenX({ fromBeginning: true }), Buffer.from('\x03abXc', 'latin1')), true);
  // from_end: jump = buffer end + value (+ post_offset).
  assert.equal(run([byteJump(1, 0, { fromEnd: true, postOffset: -2 }), content('YZ', { distance: 0, within: 2 })], Buffer.from('\x00....YZ', 'latin1')), true);
  // Jumping exactly to the end is allowed, beyond it fails.
  assert.equal(run([byteJump(1, 0), isdataat(1, true, true)], Buffer.from('\x02ab', 'latin1')), true);
  assert.equal(run([byteJump(1, 0)], Buffer.from('\x03ab', 'latin1')), false);
  // String length field and relative jump.
  assert.equal(run([content('len='), byteJump(2, 0, { relative: true, string: 'dec' }), content('!', { distance: 0, within: 1 })], 'len=05abcde!'), true);
  // A jump before the buffer start lands on the start.
  assert.equal(run([byteJump(1, 0, { postOffset: -10 }), content('\x00', { distance: 0, within: 1 })], Buffer.from([0, 1])), true);
});

test('byte_extract and byte_math: variables across ops', () => {
  // Extract a length, use it as depth-like within and as byte_test value.
  assert.equal(run([byteExtract(1, 0, 'n'), content('END', { distance: 0, within: 'n' })], Buffer.from('\x06abcEND', 'latin1')), true);
  assert.equal(run([byteExtract(1, 0, 'n'), content('END', { distance: 0, within: 'n' })], Buffer.from('\x05abcEND', 'latin1')), false);
  // byte_extract moves the relative base to after the extracted bytes.
  assert.equal(run([byteExtract(2, 0, 'v'), content('ab', { distance: 0, within: 2 })], Buffer.from('\x00\x01ab', 'latin1')), true);
  // A variable as offset and depth of an absolute content.
  assert.equal(run([byteExtract(1, 0, 'o'), content('Q', { offset: 'o', depth: 1 })], Buffer.from('\x03abQ', 'latin1')), true);
  assert.equal(run([byteExtract(1, 0, 'o'), content('Q', { offset: 'o', depth: 1 })], Buffer.from('\x02abQ', 'latin1')), false);
  // As byte_test value and offset.
  assert.equal(run([byteExtract(1, 0, 'x'), byteTest(1, '=', 'x', 1)], Buffer.from([9, 9])), true);
  assert.equal(run([byteExtract(1, 0, 'x'), byteTest(1, '=', 'x', 1)], Buffer.from([9, 8])), false);
  assert.equal(run([byteExtract(1, 0, 'x'), byteTest(1, '=', 0x42, 'x')], Buffer.from([2, 0, 0x42])), true);
  // isdataat with a variable.
  assert.equal(run([byteExtract(1, 0, 'x'), isdataat('x')], Buffer.from([2, 0, 0])), true);
  assert.equal(run([byteExtract(1, 0, 'x'), isdataat('x')], Buffer.from([3, 0, 0])), false);
  // multiplier and align.
  assert.equal(run([byteExtract(1, 0, 'x', { multiplier: 3 }), byteTest(1, '=', 'x', 1)], Buffer.from([2, 6])), true);
  assert.equal(run([byteExtract(1, 0, 'x', { align: 4 }), byteTest(1, '=', 'x', 1)], Buffer.from([5, 8])), true);
  // Little endian and string.
  assert.equal(run([byteExtract(2, 0, 'x', { endian: 'little' }), byteTest(2, '=', 'x', 2, { endian: 'little' })], Buffer.from([1, 2, 1, 2])), true);
  assert.equal(run([byteExtract(3, 0, 'x', { string: 'dec' }), byteTest(1, '=', 'x', 3)], Buffer.from('100d', 'latin1')), true);
  // byte_math: result = byte op rvalue, usable later; rvalue from a variable.
  assert.equal(run([byteMath(1, 0, '+', 1, 'r'), byteTest(1, '=', 'r', 1)], Buffer.from([4, 5])), true);
  assert.equal(run([byteMath(1, 0, '-', 1, 'r'), byteTest(1, '=', 'r', 1)], Buffer.from([4, 3])), true);
  assert.equal(run([byteMath(1, 0, '*', 2, 'r'), byteTest(1, '=', 'r', 1)], Buffer.from([4, 8])), true);
  assert.equal(run([byteMath(1, 0, '/', 2, 'r'), byteTest(1, '=', 'r', 1)], Buffer.from([9, 4])), true);
  assert.equal(run([byteMath(1, 0, '/', 0, 'r')], Buffer.from([9, 4])), false);
  assert.equal(run([byteMath(1, 0, '<<', 2, 'r'), byteTest(1, '=', 'r', 1)], Buffer.from([3, 12])), true);
  assert.equal(run([byteMath(1, 0, '>>', 1, 'r'), byteTest(1, '=', 'r', 1)], Buffer.from([9, 4])), true);
  assert.equal(run([byteExtract(1, 1, 'k'), byteMath(1, 0, '+', 'k', 'r'), byteTest(1, '=', 'r', 2)], Buffer.from([2, 3, 5])), true);
  assert.equal(run([byteMath(2, 0, '+', 0, 'r', { bitmask: 0xff00 }), byteTest(1, '=', 'r', 2)], Buffer.from([7, 1, 7])), true);
  // Unknown variable: the program does not compile.
  assert.throws(() => compileProgram({ buffer: 'pkt_data', ops: [byteTest(1, '=', 'nope', 0)] }, new RuleVars()), InspectCompileError);
});

test('pcre: plain, relative (R), anchored (A), negated, nocase rewrite, retries', () => {
  assert.equal(run([pcre('^GET\\s+/')], 'GET /x'), true);
  assert.equal(run([pcre('^GET\\s+/')], ' GET /x'), false);
  assert.equal(run([pcre('get', { jsFlags: 'i' })], 'xGeT'), true);
  assert.equal(run([pcre('[a-c]{3}', { jsFlags: 'i' })], '..AbC'), true);
  assert.equal(run([pcre('[^a]', { jsFlags: 'i' })], 'aA'), false);
  // Bytes ≥ 0x80 are not case-folded (PCRE non-UTF caseless).
  assert.equal(run([pcre('\\xe9', { jsFlags: 'i' })], Buffer.from([0xc9])), false);
  assert.equal(run([pcre('\\xe9', { jsFlags: 'i' })], Buffer.from([0xe9])), true);
  // Binary bytes through latin1.
  assert.equal(run([pcre('\\x00\\xff+\\x01')], Buffer.from([5, 0, 0xff, 0xff, 1])), true);
  // R: from the end of the previous match; ^ then means "there".
  assert.equal(run([content('user='), pcre('^admin', { relative: true })], 'x user=admin'), true);
  assert.equal(run([content('user='), pcre('^admin', { relative: true })], 'admin user=bob'), false);
  // A: anchored at the start of the inspected region.
  assert.equal(run([content('k='), pcre('\\d+', { relative: true, anchored: true })], 'k=12'), true);
  assert.equal(run([content('k='), pcre('\\d+', { relative: true, anchored: true })], 'k=x12'), false);
  // Negated.
  assert.equal(run([pcre('evil', { negated: true })], 'good'), true);
  assert.equal(run([pcre('evil', { negated: true })], 'evil'), false);
  // A pcre match moves the relative base.
  assert.equal(run([pcre('id=\\d+'), content(';', { distance: 0, within: 1 })], 'id=12;'), true);
  assert.equal(run([pcre('id=\\d+'), content(';', { distance: 0, within: 1 })], 'id=12 ;'), false);
  // ...and is retried at its next match when a relative op fails.
  assert.equal(run([pcre('id=\\d'), content(';', { distance: 0, within: 1 })], 'id=1 id=2;'), true);
  // Content retried for a relative pcre.
  assert.equal(run([content('a='), pcre('^\\d', { relative: true })], 'a=x a=1'), true);
  // Named capture delivered to the environment.
  const vars = new RuleVars();
  const p = compileProgram({ buffer: 'pkt_data', ops: [pcre('u=(?<flow_user>\\w+)', { captures: { flow_user: 'user' } })] }, vars);
  const got: string[] = [];
  assert.equal(runProgram(p, Buffer.from('u=alice'), 0, 7, st, { setVar: (n, v) => got.push(`${n}=${v}`) }), true);
  assert.deepEqual(got, ['user=alice']);
  // An invalid pattern fails to compile with a reason.
  assert.throws(() => compileProgram({ buffer: 'pkt_data', ops: [pcre('(')] }, new RuleVars()), InspectCompileError);
});

test('base64_decode + base64_data (Suricata relax mode)', () => {
  const enc = Buffer.from('hello world').toString('base64');
  assert.equal(run([content('data='), { kind: 'base64_decode', bytes: null, offset: 0, relative: true }], `data=${enc}`, { b64: [content('world')] }), true);
  assert.equal(run([content('data='), { kind: 'base64_decode', bytes: null, offset: 0, relative: true }], `data=${enc}`, { b64: [content('xyz')] }), false);
  // bytes limits the decoded input; offset skips input.
  assert.equal(run([{ kind: 'base64_decode', bytes: 8, offset: 0, relative: false }], enc, { b64: [content('world')] }), false);
  assert.equal(run([{ kind: 'base64_decode', bytes: 8, offset: 0, relative: false }], enc, { b64: [content('hello')] }), true);
  assert.equal(run([{ kind: 'base64_decode', bytes: null, offset: 4, relative: false }], 'XXXX' + enc, { b64: [content('hello', { startsWith: true })] }), true);
  // base64_data without the decode producing anything: no match.
  assert.equal(run([{ kind: 'base64_decode', bytes: null, offset: 0, relative: false }], '!!!!', { b64: [content('a', { negated: true })] }), false);
  // Decoder: invalid character stops, keeping what came before (including a partial block).
  const dst = new Uint8Array(64);
  const n1 = decodeBase64Relaxed(Buffer.from('aGVsbG8gd29ybGQ='), 0, 16, dst);
  assert.equal(Buffer.from(dst.subarray(0, n1)).toString(), 'hello world');
  const n2 = decodeBase64Relaxed(Buffer.from('aGVsbG8!d29y'), 0, 12, dst);
  assert.equal(Buffer.from(dst.subarray(0, n2)).toString(), 'hello');
  // A partial block at the end of the input decodes too (suricata-verify base64-issue-5223, sid 4); one lone character does not.
  const n3 = decodeBase64Relaxed(Buffer.from('aGVsbG'), 0, 6, dst);
  assert.equal(Buffer.from(dst.subarray(0, n3)).toString(), 'hell');
  const n4 = decodeBase64Relaxed(Buffer.from('aGVsb'), 0, 5, dst);
  assert.equal(Buffer.from(dst.subarray(0, n4)).toString(), 'hel');
});

test('dataset: string (base64 lines), md5, set/isset/isnotset/unset', () => {
  const dir = mkdtempSync(join(tmpdir(), 'harrier-ds-'));
  const strFile = join(dir, 'ua.lst');
  writeFileSync(strFile, [Buffer.from('curl/7.1').toString('base64'), Buffer.from('evil-agent').toString('base64')].join('\n') + '\n');
  const md5File = join(dir, 'h.lst');
  const md5 = 'e7bab2fd5ba79dc3d6bc6d5d9a0ea5c2';
  writeFileSync(md5File, `${md5}\n`);
  const reg = new DatasetRegistry();
  const ds = (cmd: 'set' | 'isset' | 'isnotset' | 'unset', name = 'ua', type: 'string' | 'md5' = 'string', load: string | null = strFile): BufferOp => ({ kind: 'dataset', cmd, name, type, load, state: null });
  assert.equal(run([ds('isset')], 'evil-agent', { datasets: reg }), true);
  assert.equal(run([ds('isset')], 'evil-agent2', { datasets: reg }), false);
  assert.equal(run([ds('isnotset')], 'Mozilla', { datasets: reg }), true);
  // set matches when the item is new; isset sees it afterwards.
  assert.equal(run([ds('set')], 'Mozilla', { datasets: reg }), true);
  assert.equal(run([ds('set')], 'Mozilla', { datasets: reg }), false);
  assert.equal(run([ds('isset')], 'Mozilla', { datasets: reg }), true);
  assert.equal(run([ds('unset')], 'Mozilla', { datasets: reg }), true);
  assert.equal(run([ds('isset')], 'Mozilla', { datasets: reg }), false);
  // md5: raw 16 bytes or 32 hex chars.
  assert.equal(run([ds('isset', 'h', 'md5', md5File)], Buffer.from(md5, 'hex'), { datasets: reg }), true);
  assert.equal(run([ds('isset', 'h', 'md5', md5File)], md5.toUpperCase(), { datasets: reg }), true);
  assert.equal(run([ds('isset', 'h', 'md5', md5File)], 'e7bab2fd', { datasets: reg }), false);
  // Missing file: the rule does not load, with a reason.
  assert.throws(() => compileProgram({ buffer: 'pkt_data', ops: [ds('isset', 'nofile', 'string', join(dir, 'missing.lst'))] }, new RuleVars(), { datasets: reg }), /cannot read/);
  writeFileSync(join(dir, 'bad.lst'), 'not base64 !!!\n');
  assert.throws(() => compileProgram({ buffer: 'pkt_data', ops: [ds('isset', 'bad', 'string', join(dir, 'bad.lst'))] }, new RuleVars(), { datasets: reg }), /bad\.lst:1/);
});

test('inspection recursion limit bounds pathological backtracking (counted)', () => {
  // Twelve "a"s each within 1 of the previous, on 2,000 "a"s then "b": every
  // start fails at the end, so unbounded retries would be exponential.
  const ops: BufferOp[] = [content('a')];
  for (let i = 0; i < 12; i++) ops.push(content('a', { distance: 0, within: 50 }));
  ops.push(content('c', { distance: 0, within: 1 }));
  const buf = Buffer.from('a'.repeat(2000) + 'b');
  const before = st.recursionLimitHits;
  const t0 = performance.now();
  assert.equal(run(ops, buf), false);
  const ms = performance.now() - t0;
  assert.equal(st.recursionLimitHits, before + 1);
  assert.ok(st.recursion <= INSPECTION_RECURSION_LIMIT);
  assert.ok(ms < 500, `took ${ms} ms`);
  // With a match reachable early the same program matches.
  assert.equal(run(ops, Buffer.from('a'.repeat(13) + 'c')), true);
});
