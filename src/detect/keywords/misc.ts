/**
 * Keywords that change what happens with a match rather than what matches
 * (noalert, prefilter), datasets, and keywords Harrier accepts but does not
 * evaluate because they do not change which traffic a rule matches
 * (side effects such as filestore and bypass).
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import type { DatasetOp } from '../rules/ast.js';
import { fail } from '../rules/errors.js';
import { clip } from '../rules/lexer.js';
import type { KeywordDecl } from './types.js';
import { commaList, expectValue } from './types.js';

export const noalert: KeywordDecl = {
  name: 'noalert',
  value: 'none',
  doc: 'the rule never alerts; it runs for its side effects (flowbits, …)',
  parse(_v, b) {
    b.noalert = true;
  },
};

export const prefilter: KeywordDecl = {
  name: 'prefilter',
  value: 'none',
  doc: 'use the previous keyword as the rule\'s prefilter',
  parse(_v, b) {
    b.prefilter = true;
  },
};

const DATASET_TYPES = new Set(['string', 'md5', 'sha256', 'ipv4', 'ipv6', 'ip']);

export const dataset: KeywordDecl = {
  name: 'dataset',
  value: 'required',
  doc: '`set|isset|isnotset|unset,<name>[, type <t>][, load <file>][, state <file>][, save <file>][, memcap <m>][, hashsize <n>]` on the current buffer',
  parse(v, b) {
    const parts = commaList(expectValue(v, 'dataset'));
    const cmd = parts[0]!;
    if (cmd !== 'set' && cmd !== 'isset' && cmd !== 'isnotset' && cmd !== 'unset') fail(`dataset: unknown command "${clip(cmd)}"`);
    const name = parts[1];
    if (name === undefined || !/^[A-Za-z0-9_.-]+$/.test(name)) fail('dataset needs a valid name');
    let type: DatasetOp['type'] = 'string';
    let load: string | null = null;
    let state: string | null = null;
    const base = b.ctx.file === undefined ? process.cwd() : dirname(b.ctx.file);
    const abs = (p: string): string => {
      const q = p.replace(/^"|"$/g, '');
      return isAbsolute(q) ? q : resolve(base, q);
    };
    for (const o of parts.slice(2)) {
      const m = /^(\w+)\s+(.+)$/.exec(o);
      if (m === null) fail(`dataset: bad option "${clip(o)}"`);
      const [, k, val] = m as unknown as [string, string, string];
      if (k === 'type') {
        if (!DATASET_TYPES.has(val)) fail(`dataset: unknown type "${clip(val)}"`);
        type = val as DatasetOp['type'];
      } else if (k === 'load') load = abs(val);
      else if (k === 'state') state = abs(val);
      else if (k === 'save' || k === 'memcap' || k === 'hashsize') {
        /* storage settings: no effect on matching */
      } else fail(`dataset: unknown option "${clip(k)}"`);
    }
    b.addOp({ kind: 'dataset', cmd, name, type, load, state });
  },
};

function ignored(name: string, doc: string, value: 'none' | 'required' | 'optional' = 'optional'): KeywordDecl {
  return {
    name,
    value,
    doc: `accepted, not evaluated: ${doc}`,
    parse(_v, b) {
      b.checks.push({ kind: 'ignored', keyword: name });
    },
  };
}

export const MISC_KEYWORDS: readonly KeywordDecl[] = [
  noalert,
  prefilter,
  dataset,
  ignored('filestore', 'stores files of the matching transaction (side effect)'),
  ignored('bypass', 'bypasses the flow after the match (side effect)', 'none'),
  ignored('requires', 'Suricata version/feature requirements (Harrier loads the rule)', 'required'),
];
