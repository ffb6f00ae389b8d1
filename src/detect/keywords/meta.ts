/**
 * Meta keywords: what the alert says, not what the rule matches (msg, sid,
 * rev, gid, classtype, priority, reference, metadata, target).
 */
import { fail } from '../rules/errors.js';
import { clip, stripQuotes, unescapeValue } from '../rules/lexer.js';
import type { KeywordDecl } from './types.js';
import { expectValue, uint } from './types.js';

/** Rule files are read as latin1 (one char per byte); messages are UTF-8 text. */
function utf8(s: string): string {
  // eslint-disable-next-line no-control-regex
  return /[^\x00-\x7f]/.test(s) ? Buffer.from(s, 'latin1').toString('utf8') : s;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

const interned = new Map<string, string>();
/** Shares equal strings between rules (bounded: hostile input cannot grow it without limit). */
function intern(s: string): string {
  const hit = interned.get(s);
  if (hit !== undefined) return hit;
  if (interned.size < 200000) {
    // Flatten so the interned copy does not keep the whole rule file alive.
    const own = (' ' + s).slice(1);
    interned.set(own, own);
    return own;
  }
  return s;
}

export const msg: KeywordDecl = {
  name: 'msg',
  value: 'required',
  doc: 'text of the alert (`alert.signature`)',
  parse(v, b) {
    b.msg = utf8(unescapeValue(stripQuotes(expectValue(v, 'msg')), 'msg'));
  },
};

export const sid: KeywordDecl = {
  name: 'sid',
  value: 'required',
  doc: 'signature id (`alert.signature_id`), required, > 0',
  parse(v, b) {
    if (b.sid !== null) fail('sid given twice');
    b.sid = uint(expectValue(v, 'sid'), 'sid', 1);
  },
};

export const rev: KeywordDecl = {
  name: 'rev',
  value: 'required',
  doc: 'revision (`alert.rev`), default 0',
  parse(v, b) {
    b.rev = uint(expectValue(v, 'rev'), 'rev');
  },
};

export const gid: KeywordDecl = {
  name: 'gid',
  value: 'required',
  doc: 'generator id (`alert.gid`), default 1',
  parse(v, b) {
    b.gid = uint(expectValue(v, 'gid'), 'gid');
  },
};

export const classtype: KeywordDecl = {
  name: 'classtype',
  value: 'required',
  doc: 'class from classification.config: gives `alert.category` and the default priority',
  parse(v, b) {
    const c = expectValue(v, 'classtype').trim();
    if (!/^[A-Za-z0-9_.-]+$/.test(c)) fail(`classtype "${clip(c)}" is not a valid name`);
    if (b.classtype !== null) fail('classtype given twice');
    b.classtype = c;
  },
};

export const priority: KeywordDecl = {
  name: 'priority',
  value: 'required',
  doc: '`alert.severity` (1..255), overrides the classtype priority',
  parse(v, b) {
    b.priority = uint(expectValue(v, 'priority'), 'priority', 1, 255);
  },
};

export const reference: KeywordDecl = {
  name: 'reference',
  value: 'required',
  doc: '`system,id`; systems come from reference.config (an unknown system is a warning, not an error)',
  parse(v, b) {
    const t = expectValue(v, 'reference');
    const comma = t.indexOf(',');
    if (comma <= 0) fail(`reference "${clip(t)}" is not "system,id"`);
    const system = t.slice(0, comma).trim().toLowerCase();
    const id = t.slice(comma + 1).trim();
    if (id === '') fail('reference has an empty id');
    const refs = b.ctx.references;
    if (refs !== undefined && refs.size > 0 && !refs.has(system)) b.ctx.warn?.(`unknown reference system "${system}"`);
    b.references.push({ system, id });
  },
};

export const metadata: KeywordDecl = {
  name: 'metadata',
  value: 'required',
  doc: '`key value, key value…` into `alert.metadata` (key → list of values)',
  parse(v, b) {
    // Hot at load time: every ET rule has a long metadata list. One utf8
    // check for the whole value, index scanning instead of regexes, and
    // interned keys/values (most repeat across rules: "deployment
    // Perimeter", …), which took the ET load from ~110 to ~95 MB of heap.
    const all = utf8(expectValue(v, 'metadata'));
    const md = b.metadata;
    const n = all.length;
    let i = 0;
    while (i < n) {
      let end = all.indexOf(',', i);
      if (end < 0) end = n;
      let a = i;
      let z = end;
      while (a < z && isSpace(all.charCodeAt(a))) a++;
      while (z > a && isSpace(all.charCodeAt(z - 1))) z--;
      i = end + 1;
      if (a === z) continue;
      let sp = a;
      while (sp < z && !isSpace(all.charCodeAt(sp))) sp++;
      const key = intern(all.slice(a, sp));
      while (sp < z && isSpace(all.charCodeAt(sp))) sp++;
      const val = intern(all.slice(sp, z));
      const list = md[key];
      if (list === undefined) md[key] = [val];
      else list.push(val);
    }
  },
};

export const target: KeywordDecl = {
  name: 'target',
  value: 'required',
  doc: '`src_ip` or `dest_ip`: which side is the target (`alert.source`/`alert.target`)',
  parse(v, b) {
    const t = expectValue(v, 'target').trim();
    if (t !== 'src_ip' && t !== 'dest_ip') fail(`target must be src_ip or dest_ip, not "${clip(t)}"`);
    b.target = t;
  },
};

export const META_KEYWORDS: readonly KeywordDecl[] = [msg, sid, rev, gid, classtype, priority, reference, metadata, target];
