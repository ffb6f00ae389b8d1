/**
 * The keyword table: every keyword family's declarations, listed once.
 * `keywordTable()` validates the list the first time it is used (unique
 * lower-case names and aliases, a description, a parse function) and throws
 * at startup on a bad declaration rather than mis-parsing rules later.
 *
 * Adding a keyword: write its declaration in the family module (or a new
 * module) and add the family's list here. Order carries no meaning.
 */
import { APPLAYER_KEYWORDS } from './applayer.js';
import { BUFFER_KEYWORDS } from './buffers.js';
import { BYTE_KEYWORDS } from './byte.js';
import { CONTENT_KEYWORDS } from './content.js';
import { FLOW_KEYWORDS } from './flow.js';
import { META_KEYWORDS } from './meta.js';
import { MISC_KEYWORDS } from './misc.js';
import { PACKET_KEYWORDS } from './packet.js';
import { PCRE_KEYWORDS } from './pcre.js';
import { THRESHOLD_KEYWORDS } from './threshold.js';
import type { KeywordDecl } from './types.js';

export const KEYWORD_FAMILIES: Readonly<Record<string, readonly KeywordDecl[]>> = {
  meta: META_KEYWORDS,
  content: CONTENT_KEYWORDS,
  buffers: BUFFER_KEYWORDS,
  pcre: PCRE_KEYWORDS,
  byte: BYTE_KEYWORDS,
  flow: FLOW_KEYWORDS,
  packet: PACKET_KEYWORDS,
  applayer: APPLAYER_KEYWORDS,
  threshold: THRESHOLD_KEYWORDS,
  misc: MISC_KEYWORDS,
};

let table: Map<string, KeywordDecl> | null = null;

/** Checks the declarations; returns the problems found (empty when all is well). */
export function validateDeclarations(decls: readonly KeywordDecl[]): string[] {
  const problems: string[] = [];
  const seen = new Map<string, string>();
  for (const d of decls) {
    if (typeof d.name !== 'string' || !/^[a-z0-9_.-]+$/.test(d.name)) problems.push(`keyword name "${String(d.name)}" is not lower-case [a-z0-9_.-]`);
    if (typeof d.parse !== 'function') problems.push(`keyword ${d.name}: no parse function`);
    if (d.value !== 'none' && d.value !== 'required' && d.value !== 'optional') problems.push(`keyword ${d.name}: bad value kind`);
    if (typeof d.doc !== 'string' || d.doc.trim() === '') problems.push(`keyword ${d.name}: no description`);
    for (const n of [d.name, ...(d.aliases ?? [])]) {
      if (!/^[a-z0-9_.-]+$/.test(n)) problems.push(`keyword ${d.name}: alias "${n}" is not lower-case [a-z0-9_.-]`);
      const prev = seen.get(n);
      if (prev !== undefined) problems.push(`keyword name "${n}" is declared by both ${prev} and ${d.name}`);
      seen.set(n, d.name);
    }
  }
  return problems;
}

/** All declarations, in family order. */
export function allKeywords(): KeywordDecl[] {
  return Object.values(KEYWORD_FAMILIES).flat();
}

/** Name or alias → declaration; validated on first use. */
export function keywordTable(): Map<string, KeywordDecl> {
  if (table !== null) return table;
  const decls = allKeywords();
  const problems = validateDeclarations(decls);
  if (problems.length > 0) throw new Error(`keyword declarations are invalid:\n  ${problems.join('\n  ')}`);
  const t = new Map<string, KeywordDecl>();
  for (const d of decls) for (const n of [d.name, ...(d.aliases ?? [])]) t.set(n, d);
  table = t;
  return t;
}
