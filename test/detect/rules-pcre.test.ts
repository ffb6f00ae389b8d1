// PCRE → JavaScript translation: the translated RegExp must match exactly
// what PCRE (as Suricata compiles it) matches, on latin1 subjects.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { translatePcre } from '../../src/detect/rules/index.js';

const F = { caseless: false, dotall: false, multiline: false, extended: false, dollarEndOnly: false, ungreedy: false };
function re(p: string, flags: Partial<typeof F> = {}): RegExp {
  const t = translatePcre(p, { ...F, ...flags });
  return new RegExp(t.source, t.jsFlags);
}
const m = (p: string, s: string, flags: Partial<typeof F> = {}) => re(p, flags).exec(s)?.[0] ?? null;

test('anchors and dot follow PCRE, not JavaScript', () => {
  // `.` does not match \n but does match \r (JS would refuse \r)
  assert.equal(m('a.b', 'a\rb'), 'a\rb');
  assert.equal(m('a.b', 'a\nb'), null);
  assert.equal(m('a.b', 'a\nb', { dotall: true }), 'a\nb');
  // `$` matches before a final newline unless E
  assert.equal(m('abc$', 'abc\n'), 'abc');
  assert.equal(m('abc$', 'abc\n', { dollarEndOnly: true }), null);
  assert.equal(m('abc$', 'abc\nx'), null);
  // multiline: ^/$ at \n only (not \r)
  assert.equal(m('^b$', 'a\nb\nc', { multiline: true }), 'b');
  assert.equal(m('^b', 'a\rb', { multiline: true }), null);
  // \A \z \Z
  assert.equal(m('\\Ab', 'a\nb', { multiline: true }), null);
  assert.equal(m('b\\z', 'ab\n'), null);
  assert.equal(m('b\\Z', 'ab\n'), 'b');
});

test('escapes and classes: \\s \\h \\v \\R \\x{..} \\e \\Q..\\E, POSIX classes, literal ] first in class', () => {
  assert.equal(m('a\\sb', 'a\xa0b'), null, '\\s is ASCII whitespace only');
  assert.equal(m('a\\sb', 'a\x0bb'), 'a\x0bb');
  assert.equal(m('a\\hb', 'a\tb'), 'a\tb');
  assert.equal(m('a\\vb', 'a\rb'), 'a\rb');
  assert.equal(m('a\\Rb', 'a\r\nb'), 'a\r\nb');
  assert.equal(m('\\x{41}\\x4\\e', 'A\x04\x1b'), 'A\x04\x1b');
  assert.equal(m('\\Qa.b*\\E', 'a.b*'), 'a.b*');
  assert.equal(m('\\Qa.b*\\E', 'axbb'), null);
  assert.equal(m('[[:digit:][:upper:]]+', 'x9Zq'), '9Z');
  assert.equal(m('[]a]+', ']a]'), ']a]');
  assert.equal(m('[^]a]', ']ab'), 'b');
  assert.equal(m('\\0101', '\x081'), '\x081', 'backslash-0 takes at most two more octal digits');
});

test('named groups, back-references and option groups', () => {
  assert.equal(m('(?P<w>ab)(?P=w)', 'abab'), 'abab');
  assert.equal(m("(?'w'ab)\\k{w}", 'abab'), 'abab');
  assert.equal(m('(a)\\g{-1}', 'aa'), 'aa');
  assert.equal(m('(?i)abc', 'ABC'), 'ABC');
  assert.equal(m('a(?#comment)b', 'ab'), 'ab');
  assert.equal(m('a b # c\n c', 'abc', { extended: true }), 'abc');
  assert.equal(m('a(?i:b)', 'aB', { caseless: true }), 'aB');
});

test('inline options in mid-pattern are scoped: (?i:…) folds ASCII letters, (?s)/(?m)/(?x)/(?U) steer the rewrite', () => {
  assert.equal(m('a(?i:b[c-e]\\x46)g', 'aBdfg'), 'aBdfg');
  assert.equal(m('a(?i:b)c', 'aBC'), null, 'caselessness ends with the group');
  assert.equal(m('a(?i)bc', 'aBC'), 'aBC', 'unscoped (?i) lasts to the end');
  assert.equal(m('(x(?i)b)c', 'xBc'), 'xBc');
  assert.equal(m('(x(?i)b)c', 'xBC'), null, '(?i) inside a group ends with it');
  assert.equal(m('a(?i:[^b])', 'aB'), null, 'negated classes fold too');
  assert.equal(m('a(?i:[^b])', 'ac'), 'ac');
  assert.equal(m('a(?i:\\xe9)', 'a\xc9'), null, 'only ASCII letters fold, as PCRE without UTF');
  assert.equal(m('a(?s:.)b.', 'a\nb\n'), null);
  assert.equal(m('a(?s:.)b.', 'a\nbc'), 'a\nbc');
  assert.equal(m('(?m:^b)', 'a\nb'), 'b');
  assert.equal(m('a(?x: b c )d', 'abcd'), 'abcd');
  assert.throws(() => re('(a)(?i:\\1)'), /back-reference inside/);
  assert.throws(() => re('a(?-i:b)', { caseless: true }), /cannot switch off/);
  assert.throws(() => re('a(?J:b)'), /not supported/);
});

test('atomic groups and possessive quantifiers keep their no-backtrack meaning', () => {
  // PCRE: a++a never matches (the possessive takes every a)
  assert.equal(m('a++a', 'aaaa'), null);
  assert.equal(m('a*+b', 'aaab'), 'aaab');
  assert.equal(m('(?>a+)a', 'aaa'), null);
  assert.equal(m('(?>ab|a)c', 'ac'), 'ac');
  assert.equal(m('(?>a|ab)c', 'abc'), null);
  assert.equal(m('[a-z]{2,}+1', 'abc1'), 'abc1');
  assert.throws(() => re('(a)\\1(?>b)'), /cannot be rewritten/);
});

test('ungreedy (G) swaps greediness', () => {
  assert.equal(m('a.*b', 'aXbXb', { ungreedy: true }), 'aXb');
  assert.equal(m('a.*?b', 'aXbXb', { ungreedy: true }), 'aXbXb');
});

test('constructs JavaScript cannot express are refused with a reason', () => {
  for (const p of ['a(?R)', '(?(1)a|b)', '(?|a|b)', 'a\\Kb', '\\Ga', '\\p{L}', '(*UTF8)a', 'a(?1)', '\\x{100}']) {
    assert.throws(() => re(p), /pcre:/, p);
  }
  assert.throws(() => re('a{3,1}'), /m < n/);
  assert.throws(() => re('a)'), /unbalanced/);
  assert.throws(() => re('[abc'), /unterminated/);
  assert.throws(() => re('*a'), /follows nothing/);
});

test('hostile patterns compile (the engine bounds execution), and literal braces stay literal', () => {
  assert.doesNotThrow(() => re('(a+)+$'));
  assert.doesNotThrow(() => re('(x+x+)+y'));
  assert.equal(m('a{,3}', 'a{,3}'), 'a{,3}');
  assert.equal(m('a{x}', 'a{x}'), 'a{x}');
  assert.equal(m('\\/path\\/', '/path/'), '/path/');
});
