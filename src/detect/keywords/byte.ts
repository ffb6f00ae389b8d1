/**
 * byte_test, byte_jump, byte_extract, byte_math: read a number from the
 * current buffer. Options follow Suricata's docs; variables named by
 * byte_extract/byte_math may stand in for numbers later in the same rule.
 */
import type { ByteTestOp, Endian, NumString } from '../rules/ast.js';
import { fail } from '../rules/errors.js';
import { clip } from '../rules/lexer.js';
import type { KeywordDecl } from './types.js';
import { commaList, expectValue, numOrVar, sint, uint } from './types.js';

interface Common {
  endian: Endian;
  string: NumString;
  relative: boolean;
  bitmask: number | null;
}

/** Handles the options shared by all four; returns false for an option it does not know. */
function commonOpt(o: string, c: Common & { stringSeen: boolean }): boolean {
  switch (o) {
    case 'relative':
      c.relative = true;
      return true;
    case 'big':
    case 'little':
    case 'dce':
      c.endian = o;
      return true;
    case 'string':
      c.stringSeen = true;
      if (c.string === null) c.string = 'dec';
      return true;
    case 'hex':
    case 'dec':
    case 'oct':
      c.string = o;
      return true;
  }
  const m = /^bitmask\s+(\S+)$/.exec(o);
  if (m !== null) {
    c.bitmask = uint(m[1]!, 'bitmask');
    return true;
  }
  return false;
}

function finishString(c: Common & { stringSeen: boolean }, kw: string): void {
  if (c.string !== null && !c.stringSeen) fail(`${kw}: ${c.string} needs "string"`);
}

/** With `string`, Suricata accepts 0: the number is read from the rest of the buffer (`http.content_len; byte_test:0,=,0,0,string,dec`). */
function nbytesOf(s: string, kw: string, str: boolean): number {
  const n = uint(s, `${kw} nbytes`, str ? 0 : 1, 23);
  if (!str && n > 8) fail(`${kw}: nbytes ${n} is more than 8 without "string"`);
  return n;
}

export const byteTest: KeywordDecl = {
  name: 'byte_test',
  value: 'required',
  doc: '`nbytes, [!]op, value, offset[, relative][, big|little|dce][, string, hex|dec|oct][, bitmask m]`',
  parse(v, b) {
    const parts = commaList(expectValue(v, 'byte_test'));
    if (parts.length < 4) fail('byte_test needs nbytes, operator, value and offset');
    const c = { endian: 'big' as Endian, string: null as NumString, relative: false, bitmask: null as number | null, stringSeen: false };
    for (const o of parts.slice(4)) if (!commonOpt(o, c)) fail(`byte_test: unknown option "${clip(o)}"`);
    finishString(c, 'byte_test');
    let opText = parts[1]!.replace(/\s+/g, '');
    let negated = false;
    if (opText.startsWith('!')) {
      negated = true;
      opText = opText.slice(1);
      if (opText === '=' || opText === '') opText = '=';
    }
    if (!['<', '>', '=', '<=', '>=', '&', '^'].includes(opText)) fail(`byte_test: unknown operator "${clip(parts[1]!)}"`);
    const op: ByteTestOp = {
      kind: 'byte_test',
      // Suricata 7 also takes a byte_extract/byte_math variable as the count (checked when matching).
      nbytes: /^\s*[A-Za-z_]/.test(parts[0]!) ? numOrVar(parts[0]!, 'byte_test nbytes') : nbytesOf(parts[0]!, 'byte_test', c.string !== null),
      operator: opText as ByteTestOp['operator'],
      negated,
      value: numOrVar(parts[2]!, 'byte_test value'),
      offset: numOrVar(parts[3]!, 'byte_test offset', true),
      relative: c.relative,
      endian: c.endian,
      string: c.string,
      bitmask: c.bitmask,
    };
    b.addOp(op);
  },
};

export const byteJump: KeywordDecl = {
  name: 'byte_jump',
  value: 'required',
  doc: '`nbytes, offset[, relative][, multiplier n][, endian][, string, base][, align][, from_beginning|from_end][, post_offset n][, bitmask m]`',
  parse(v, b) {
    const parts = commaList(expectValue(v, 'byte_jump'));
    if (parts.length < 2) fail('byte_jump needs nbytes and offset');
    const c = { endian: 'big' as Endian, string: null as NumString, relative: false, bitmask: null as number | null, stringSeen: false };
    let multiplier = 1;
    let align = false;
    let fromBeginning = false;
    let fromEnd = false;
    let postOffset = 0;
    for (const o of parts.slice(2)) {
      if (commonOpt(o, c)) continue;
      let m: RegExpExecArray | null;
      if (o === 'align') align = true;
      else if (o === 'from_beginning') fromBeginning = true;
      else if (o === 'from_end') fromEnd = true;
      else if ((m = /^multiplier\s+(\S+)$/.exec(o)) !== null) multiplier = uint(m[1]!, 'byte_jump multiplier', 1, 65535);
      else if ((m = /^post_offset\s+(\S+)$/.exec(o)) !== null) postOffset = sint(m[1]!, 'byte_jump post_offset');
      else fail(`byte_jump: unknown option "${clip(o)}"`);
    }
    finishString(c, 'byte_jump');
    if (fromBeginning && fromEnd) fail('byte_jump: from_beginning and from_end are exclusive');
    b.addOp({
      kind: 'byte_jump',
      // Suricata accepts byte_jump:0 (a jump of post_offset only).
      nbytes: parts[0]!.trim() === '0' ? 0 : nbytesOf(parts[0]!, 'byte_jump', c.string !== null),
      offset: numOrVar(parts[1]!, 'byte_jump offset', true),
      relative: c.relative,
      multiplier,
      endian: c.endian,
      string: c.string,
      align,
      fromBeginning,
      fromEnd,
      postOffset,
      bitmask: c.bitmask,
    });
  },
};

export const byteExtract: KeywordDecl = {
  name: 'byte_extract',
  value: 'required',
  doc: '`nbytes, offset, name[, relative][, multiplier n][, endian][, string, base][, align n][, bitmask m]`: store a value for later keywords',
  parse(v, b) {
    const parts = commaList(expectValue(v, 'byte_extract'));
    if (parts.length < 3) fail('byte_extract needs nbytes, offset and name');
    const c = { endian: 'big' as Endian, string: null as NumString, relative: false, bitmask: null as number | null, stringSeen: false };
    let multiplier = 1;
    let align = 0;
    for (const o of parts.slice(3)) {
      if (commonOpt(o, c)) continue;
      let m: RegExpExecArray | null;
      if ((m = /^multiplier\s+(\S+)$/.exec(o)) !== null) multiplier = uint(m[1]!, 'byte_extract multiplier', 1, 65535);
      else if ((m = /^align\s+(\S+)$/.exec(o)) !== null) {
        align = uint(m[1]!, 'byte_extract align');
        if (align !== 2 && align !== 4) fail('byte_extract: align must be 2 or 4');
      } else fail(`byte_extract: unknown option "${clip(o)}"`);
    }
    finishString(c, 'byte_extract');
    const name = parts[2]!;
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) fail(`byte_extract: "${clip(name)}" is not a valid variable name`);
    b.addOp({
      kind: 'byte_extract',
      nbytes: nbytesOf(parts[0]!, 'byte_extract', c.string !== null),
      offset: sint(parts[1]!, 'byte_extract offset'),
      name,
      relative: c.relative,
      multiplier,
      endian: c.endian,
      string: c.string,
      align,
      bitmask: c.bitmask,
    });
  },
};

export const byteMath: KeywordDecl = {
  name: 'byte_math',
  value: 'required',
  doc: '`bytes n, offset n, oper op, rvalue v, result name[, relative][, endian e][, string base][, dce][, bitmask m]`',
  parse(v, b) {
    const c = { endian: 'big' as Endian, string: null as NumString, relative: false, bitmask: null as number | null, stringSeen: true };
    let nbytes: number | string | null = null;
    let offset: number | string | null = null;
    let oper: string | null = null;
    let rvalue: number | string | null = null;
    let result: string | null = null;
    for (const o of commaList(expectValue(v, 'byte_math'))) {
      const m = /^(\w+)(?:\s+(.+))?$/.exec(o);
      if (m === null) fail(`byte_math: bad option "${clip(o)}"`);
      const [, k, val] = m;
      if (val === undefined) {
        if (k === 'relative') c.relative = true;
        else if (k === 'dce') c.endian = 'dce';
        else fail(`byte_math: "${clip(o)}" needs a value`);
        continue;
      }
      switch (k) {
        case 'bytes':
          // Suricata 7 also takes a byte_extract variable as the count (checked when matching).
          nbytes = /^[A-Za-z_]/.test(val.trim()) ? numOrVar(val, 'byte_math bytes') : uint(val, 'byte_math bytes', 1, 10);
          break;
        case 'offset':
          offset = numOrVar(val, 'byte_math offset', true);
          break;
        case 'oper':
          oper = val.trim();
          break;
        case 'rvalue':
          rvalue = numOrVar(val, 'byte_math rvalue');
          break;
        case 'result':
          result = val.trim();
          break;
        case 'endian':
          if (val !== 'big' && val !== 'little' && val !== 'dce') fail(`byte_math: unknown endian "${clip(val)}"`);
          c.endian = val;
          break;
        case 'string':
          if (val !== 'hex' && val !== 'dec' && val !== 'oct') fail(`byte_math: unknown string base "${clip(val)}"`);
          c.string = val;
          break;
        case 'bitmask':
          c.bitmask = uint(val, 'byte_math bitmask');
          break;
        default:
          fail(`byte_math: unknown option "${clip(o)}"`);
      }
    }
    if (nbytes === null || offset === null || oper === null || rvalue === null || result === null) {
      fail('byte_math needs bytes, offset, oper, rvalue and result');
    }
    if (!['+', '-', '*', '/', '<<', '>>'].includes(oper)) fail(`byte_math: unknown oper "${clip(oper)}"`);
    if (typeof nbytes === 'number' && nbytes > 4 && c.string === null) fail('byte_math: bytes above 4 need "string"');
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(result)) fail(`byte_math: "${clip(result)}" is not a valid variable name`);
    b.addOp({
      kind: 'byte_math',
      nbytes,
      offset,
      oper: oper as '+' | '-' | '*' | '/' | '<<' | '>>',
      rvalue,
      result,
      relative: c.relative,
      endian: c.endian,
      string: c.string,
      bitmask: c.bitmask,
    });
  },
};

export const BYTE_KEYWORDS: readonly KeywordDecl[] = [byteTest, byteJump, byteExtract, byteMath];
