/**
 * Buffer inspection: runs one rule's `BufferProgram` (content, pcre,
 * byte_*, isdataat, bsize, base64_decode, dataset) over one buffer with the
 * semantics of Suricata 7's content inspection engine
 * (detect-engine-content-inspection.c):
 *
 *  - Ops run in rule order; `bufferOffset` is the end of the last match
 *    (content, pcre, byte_jump, byte_extract move it) and relative
 *    modifiers count from it.
 *  - Backtracking: when a content or pcre matched and a later op fails, and
 *    some later op is relative to that match (Suricata's RELATIVE_NEXT), the
 *    content/pcre is retried at its next occurrence (content: from its
 *    previous match start + 1; pcre: likewise) and the rest re-run. A
 *    failure that no retry can fix (an absolute content not found, a
 *    dataset miss, …) stops the whole inspection at once ("discontinue").
 *  - The number of op evaluations per inspection is bounded
 *    (INSPECTION_RECURSION_LIMIT, Suricata's default 3000); hitting it ends
 *    the inspection without a match and is counted in
 *    `InspectState.recursionLimitHits`.
 *  - Absolute `depth` counts from `offset` (end = offset + depth);
 *    `startswith` is depth = pattern length; `within` counts from the end
 *    of the previous match plus `distance`; a negative distance reaching
 *    before the buffer start is clamped to 0.
 *
 * Hot-path rules: a compiled op is a flat object of numbers; running a
 * program allocates nothing except for pcre (the latin1 string of the
 * buffer, made once per runProgram call and only when a pcre runs).
 */
import type {
  Base64DecodeOp,
  BsizeOp,
  BufferOp,
  BufferProgram,
  ByteExtractOp,
  ByteJumpOp,
  ByteMathOp,
  ByteTestOp,
  ContentOp,
  DatasetOp,
  IntCompare,
  IsDataAtOp,
  NumOrVar,
  PcreOp,
} from '../rules/ast.js';
import { FOLD } from './mpm.js';
import { applyBitmask, readString, readUint, trailingZeros, wrap64, and64, xor64, TWO64 } from './byte-ops.js';
import { decodeBase64Relaxed } from './base64.js';
import { type Dataset, type DatasetRegistry, defaultDatasets } from './datasets.js';
import { compilePcre, execPcre, pcreResult, PcreCompileError, type CompiledPcre } from './pcre.js';

/** Suricata's default `detect.inspection-recursion-limit`. */
export const INSPECTION_RECURSION_LIMIT = 3000;
/** Largest base64_decode output (Suricata caps `bytes` likewise). */
export const BASE64_DECODE_MAX = 65535;

/** A program cannot be run; the rule fails to load with this reason. */
export class InspectCompileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InspectCompileError';
  }
}

/** Per-rule slots of byte_extract / byte_math variables. */
export class RuleVars {
  private readonly names = new Map<string, number>();
  /** Slot of `name`, created on first use. */
  index(name: string): number {
    let i = this.names.get(name);
    if (i === undefined) {
      i = this.names.size;
      this.names.set(name, i);
    }
    return i;
  }
  /** Slot of `name` or -1 when no op defined it yet. */
  lookup(name: string): number {
    return this.names.get(name) ?? -1;
  }
  get count(): number {
    return this.names.size;
  }
}

/** What some ops need from outside the buffer. */
export interface InspectEnv {
  /** Datasets for `dataset` ops (default: the registry the program was compiled with). */
  datasets?: DatasetRegistry;
  /** The buffer is the packet payload (`rawbytes` changes nothing then; kept for callers' clarity). */
  isPacketPayload?: boolean;
  /** Byte order of the DCE/RPC PDU for `dce` byte ops; default little-endian. */
  dceBigEndian?: boolean;
  /** Called for pcre named captures mapped to pkt/flow variables. */
  setVar?(name: string, value: string): void;
}

/** Per-thread scratch reused by every runProgram call. */
export class InspectState {
  vars: Float64Array;
  /** End of the last match (relative base), within the buffer being inspected. */
  bufferOffset = 0;
  /** pcre retry start (Suricata's pcre_match_start_offset). */
  pcreStart = 0;
  /** Op evaluations in the current inspection. */
  recursion = 0;
  /** Inspections ended by INSPECTION_RECURSION_LIMIT (cumulative). */
  recursionLimitHits = 0;
  /** Guarded pcre runs that timed out (cumulative). */
  pcreTimeouts = 0;
  /** base64_decode output. */
  b64 = new Uint8Array(1024);
  /** Byte-op scratch: [value, consumed]. */
  readonly num = new Float64Array(2);
  // latin1 string of the buffer for pcre: valid for (strBuf, strOff, strLen) during one runProgram.
  strBuf: Uint8Array | null = null;
  strOff = 0;
  strLen = 0;
  str = '';
  env: InspectEnv | undefined = undefined;
  /**
   * Memo of one inspection (see SearchMemo): results that Suricata's
   * backtracking recomputes again and again are looked up instead.
   */
  readonly memo = new SearchMemo();

  constructor(maxVars = 16) {
    this.vars = new Float64Array(Math.max(1, maxVars));
  }
}

/**
 * Per-inspection memo for the backtracking in `inspect`. Suricata's content
 * inspection retries an earlier content at its next occurrence when a later
 * relative op fails, so the later ops search the same buffer again from
 * nearby offsets: with `content:"<script"; content:"<"; distance:0;
 * content:".length"; distance:0; pcre:"/^…/R"` on a large file.data every
 * `<` re-searches every `.length` and re-runs the pcre at every `.length`
 * (up to the 3,000-step recursion limit). Measured on public-mix: that one
 * ET Open rule (sid 2025185) took ~1.2 s of the 4.3 s of a cold pass.
 *
 * Both memos only replace a computation by its earlier result within one
 * buffer inspection, so what matches, and the recursion count, are
 * unchanged:
 *  - contents: once an op has searched about one buffer length in total,
 *    every occurrence of its pattern in the buffer is listed once and each
 *    later search is a binary search (amortised at most twice the bytes
 *    of a plain scan);
 *  - pcre: a failed run (first try at a relative start) is remembered by
 *    (op, start) in a small direct-mapped table.
 * The epoch changes on every runProgram and around base64_data (another
 * buffer and program), which invalidates everything at once; typed arrays,
 * grown rarely, so a run allocates nothing.
 */
export class SearchMemo {
  /** Off: every search and pcre run is done afresh (tests compare both ways). */
  enabled = true;
  /** Searches and pcre runs answered from the memo (cumulative; tests read it). */
  hits = 0;
  epoch = 0;
  /** Per op index: epoch of the counters below. */
  opEp = new Uint32Array(64);
  /** Per op index: bytes searched by plain scans in this epoch. */
  opBytes = new Float64Array(64);
  /** Per op index: occurrence list [occStart, occStart+occCount) in occ, when opEp matches and occCount ≥ 0. */
  occStart = new Int32Array(64);
  occCount = new Int32Array(64);
  occ = new Int32Array(1024);
  occTop = 0;
  // Failed pcre runs: direct-mapped (op, relative start) → epoch.
  pcreEp = new Uint32Array(PCRE_MEMO_SLOTS);
  pcreOp = new Int32Array(PCRE_MEMO_SLOTS);
  pcreAt = new Int32Array(PCRE_MEMO_SLOTS);

  begin(nOps: number): void {
    this.epoch = (this.epoch + 1) >>> 0;
    if (this.epoch === 0) {
      // wrapped: clear so no stale entry matches
      this.opEp.fill(0);
      this.pcreEp.fill(0);
      this.epoch = 1;
    }
    this.occTop = 0;
    if (nOps > this.opEp.length) {
      const n = Math.max(nOps, this.opEp.length * 2);
      this.opEp = new Uint32Array(n);
      this.opBytes = new Float64Array(n);
      this.occStart = new Int32Array(n);
      this.occCount = new Int32Array(n);
    }
  }
}

const PCRE_MEMO_SLOTS = 1024;

const enum K {
  CONTENT,
  PCRE,
  BYTE_TEST,
  BYTE_JUMP,
  BYTE_EXTRACT,
  BYTE_MATH,
  ISDATAAT,
  BSIZE,
  BASE64,
  DATASET,
}

const enum Cmp {
  EQ,
  NE,
  LT,
  LE,
  GT,
  GE,
  RANGE_EX,
  RANGE_IN,
  AND,
  XOR,
}

/**
 * One compiled op: a single shape for all kinds so the run loop stays
 * monomorphic. `*Var` fields hold a variable slot or -1 (use the literal).
 */
class Op {
  k: K = K.CONTENT;
  last = false;
  /** A later op is relative to this content/pcre's match (Suricata RELATIVE_NEXT): retry on failure. */
  relNext = false;
  negated = false;
  relative = false;
  // content
  pat: Uint8Array = new Uint8Array(0);
  patLen = 0;
  nocase = false;
  hasDistance = false;
  hasWithin = false;
  hasDepth = false;
  distance = 0;
  distanceVar = -1;
  within = 0;
  withinVar = -1;
  offset = 0;
  offsetVar = -1;
  depth = 0;
  depthVar = -1;
  endsWith = false;
  /** No relative/absolute modifiers: a miss can never be fixed by a retry. */
  single = false;
  // pcre
  pcre: CompiledPcre | null = null;
  // byte ops
  /** 0: byte_jump reads no number (only moves by offset/post_offset); a `string` byte_test reads to the buffer's end. */
  nbytes = 0;
  /** byte_test's count from a variable (-1: the literal `nbytes`). */
  nbytesVar = -1;
  little = false;
  dce = false;
  base = 0; // 0 binary, else 8/10/16
  cmp: Cmp = Cmp.EQ;
  value = 0;
  valueVar = -1;
  hi = 0;
  bitmask = 0;
  bitmaskShift = 0;
  multiplier = 1;
  align = 0;
  fromBeginning = false;
  fromEnd = false;
  postOffset = 0;
  oper = 0; // byte_math: 0 + 1 - 2 * 3 / 4 << 5 >>
  resultVar = -1;
  // base64
  b64Bytes = 0;
  b64Data: CompiledProgram | null = null;
  // dataset
  dataset: Dataset | null = null;
  dsName = '';
  dsCmd = 0; // 0 set 1 isset 2 isnotset 3 unset
}

export interface CompiledProgram {
  readonly buffer: string;
  /** Variable slots this program uses (InspectState.vars must hold them). */
  readonly varCount: number;
  /** @internal */
  readonly ops: readonly Op[];
}

export interface CompileOptions {
  /** Registry for dataset ops (default: defaultDatasets). */
  datasets?: DatasetRegistry;
  /** The rule's `base64_data` program, run on the output of this program's base64_decode. */
  base64Data?: BufferProgram;
}

function num(v: NumOrVar | null, vars: RuleVars, what: string): { lit: number; slot: number } {
  if (v === null) return { lit: 0, slot: -1 };
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new InspectCompileError(`${what}: not a number`);
    return { lit: v, slot: -1 };
  }
  const slot = vars.lookup(v);
  if (slot < 0) throw new InspectCompileError(`${what}: unknown byte_extract/byte_math variable '${v}'`);
  return { lit: 0, slot };
}

function baseOf(s: 'hex' | 'dec' | 'oct' | null, isString: boolean): number {
  if (!isString) return 0;
  return s === 'hex' ? 16 : s === 'oct' ? 8 : 10;
}

function checkNbytes(kind: string, nbytes: number, isString: boolean, maxBin: number, zeroOk = false): void {
  if (!Number.isInteger(nbytes) || nbytes < (zeroOk ? 0 : 1)) throw new InspectCompileError(`${kind}: nbytes must be at least 1`);
  if (!isString && nbytes > maxBin) throw new InspectCompileError(`${kind}: nbytes ${nbytes} is more than ${maxBin} without 'string'`);
  if (isString && nbytes > 23) throw new InspectCompileError(`${kind}: string nbytes ${nbytes} is more than 23`);
}

function setBitmask(o: Op, mask: number | null, kind: string): void {
  if (mask === null) return;
  if (!Number.isInteger(mask) || mask <= 0 || mask >= TWO64) throw new InspectCompileError(`${kind}: bad bitmask ${mask}`);
  o.bitmask = mask;
  o.bitmaskShift = trailingZeros(mask);
}

function compileOp(op: BufferOp, vars: RuleVars, opts: CompileOptions): Op {
  const o = new Op();
  switch (op.kind) {
    case 'content':
      return compileContent(op, vars, o);
    case 'pcre':
      return compilePcreOp(op, o);
    case 'byte_test':
      return compileByteTest(op, vars, o);
    case 'byte_jump':
      return compileByteJump(op, vars, o);
    case 'byte_extract':
      return compileByteExtract(op, vars, o);
    case 'byte_math':
      return compileByteMath(op, vars, o);
    case 'isdataat':
      return compileIsDataAt(op, vars, o);
    case 'bsize':
      return compileBsize(op, o);
    case 'base64_decode':
      return compileBase64(op, vars, o, opts);
    case 'dataset':
      return compileDataset(op, o, opts);
    default: {
      const k: string = (op as { kind: string }).kind;
      throw new InspectCompileError(`unsupported buffer keyword ${k}`);
    }
  }
}

function compileContent(op: ContentOp, vars: RuleVars, o: Op): Op {
  o.k = K.CONTENT;
  if (op.bytes.length === 0) throw new InspectCompileError('content: empty pattern');
  o.patLen = op.bytes.length;
  o.nocase = op.nocase;
  o.pat = new Uint8Array(op.bytes.length);
  for (let i = 0; i < op.bytes.length; i++) o.pat[i] = op.nocase ? FOLD[op.bytes[i]] : op.bytes[i];
  o.negated = op.negated;
  o.endsWith = op.endsWith;
  o.hasDistance = op.distance !== null;
  o.hasWithin = op.within !== null;
  o.relative = o.hasDistance || o.hasWithin;
  const d = num(op.distance, vars, 'distance');
  o.distance = d.lit;
  o.distanceVar = d.slot;
  const w = num(op.within, vars, 'within');
  o.within = w.lit;
  o.withinVar = w.slot;
  const off = num(op.offset, vars, 'offset');
  o.offset = off.lit;
  o.offsetVar = off.slot;
  if (op.startsWith) {
    // startswith = "depth: pattern length" at offset 0.
    o.hasDepth = true;
    o.depth = o.patLen;
  } else if (op.depth !== null) {
    const dp = num(op.depth, vars, 'depth');
    o.hasDepth = true;
    o.depth = dp.lit;
    o.depthVar = dp.slot;
  }
  if (o.hasWithin && o.withinVar < 0 && o.within < 0) throw new InspectCompileError('within: negative');
  if (o.offsetVar < 0 && o.offset < 0) throw new InspectCompileError('offset: negative');
  if (o.hasDepth && o.depthVar < 0 && o.depth <= 0) throw new InspectCompileError('depth: must be positive');
  o.single = !o.relative && !o.hasDepth && op.offset === null;
  return o;
}

function compilePcreOp(op: PcreOp, o: Op): Op {
  o.k = K.PCRE;
  try {
    o.pcre = compilePcre(op);
  } catch (e) {
    if (e instanceof PcreCompileError) throw new InspectCompileError(e.message);
    throw e;
  }
  o.negated = op.negated;
  o.relative = op.relative;
  return o;
}

const CMP_OF: Record<ByteTestOp['operator'], Cmp> = { '<': Cmp.LT, '>': Cmp.GT, '=': Cmp.EQ, '<=': Cmp.LE, '>=': Cmp.GE, '&': Cmp.AND, '^': Cmp.XOR };

function compileByteTest(op: ByteTestOp, vars: RuleVars, o: Op): Op {
  o.k = K.BYTE_TEST;
  const isString = op.string !== null;
  // 0 with `string` (ET Open: `http.content_len; byte_test:0,=,0,0,string,dec`): Suricata's
  // string reader then takes the digits up to the end of the buffer (strtoull on the rest).
  const nb = num(op.nbytes, vars, 'byte_test nbytes');
  if (nb.slot < 0) checkNbytes('byte_test', nb.lit, isString, 8, isString);
  o.nbytes = nb.lit;
  o.nbytesVar = nb.slot;
  o.base = baseOf(op.string, isString);
  o.cmp = CMP_OF[op.operator];
  if (o.cmp === undefined) throw new InspectCompileError(`byte_test: unknown operator ${op.operator}`);
  o.negated = op.negated;
  const v = num(op.value, vars, 'byte_test value');
  o.value = v.lit;
  o.valueVar = v.slot;
  const off = num(op.offset, vars, 'byte_test offset');
  o.offset = off.lit;
  o.offsetVar = off.slot;
  o.relative = op.relative;
  o.little = op.endian === 'little';
  o.dce = op.endian === 'dce';
  setBitmask(o, op.bitmask, 'byte_test');
  return o;
}

function compileByteJump(op: ByteJumpOp, vars: RuleVars, o: Op): Op {
  o.k = K.BYTE_JUMP;
  const isString = op.string !== null;
  // 0: no number is read; the cursor moves by offset and post_offset only (suricata-verify bug-4623).
  checkNbytes('byte_jump', op.nbytes, isString, 8, true);
  o.nbytes = op.nbytes;
  o.base = baseOf(op.string, isString);
  const off = num(op.offset, vars, 'byte_jump offset');
  o.offset = off.lit;
  o.offsetVar = off.slot;
  o.relative = op.relative;
  o.multiplier = op.multiplier;
  o.little = op.endian === 'little';
  o.dce = op.endian === 'dce';
  o.align = op.align ? 4 : 0;
  o.fromBeginning = op.fromBeginning;
  o.fromEnd = op.fromEnd;
  if (o.fromBeginning && o.fromEnd) throw new InspectCompileError("byte_jump: 'from_beginning' and 'from_end' together");
  o.postOffset = op.postOffset;
  setBitmask(o, op.bitmask, 'byte_jump');
  return o;
}

function compileByteExtract(op: ByteExtractOp, vars: RuleVars, o: Op): Op {
  o.k = K.BYTE_EXTRACT;
  const isString = op.string !== null;
  checkNbytes('byte_extract', op.nbytes, isString, 8);
  o.nbytes = op.nbytes;
  o.base = baseOf(op.string, isString);
  o.offset = op.offset;
  o.relative = op.relative;
  o.multiplier = op.multiplier;
  o.little = op.endian === 'little';
  o.dce = op.endian === 'dce';
  o.align = op.align;
  if (op.align !== 0 && op.align !== 2 && op.align !== 4) throw new InspectCompileError(`byte_extract: align must be 2 or 4, got ${op.align}`);
  setBitmask(o, op.bitmask, 'byte_extract');
  o.resultVar = vars.index(op.name);
  return o;
}

const OPER: Record<ByteMathOp['oper'], number> = { '+': 0, '-': 1, '*': 2, '/': 3, '<<': 4, '>>': 5 };

function compileByteMath(op: ByteMathOp, vars: RuleVars, o: Op): Op {
  o.k = K.BYTE_MATH;
  const isString = op.string !== null;
  const nb = num(op.nbytes, vars, 'byte_math bytes');
  if (nb.slot < 0) checkNbytes('byte_math', nb.lit, isString, 4);
  o.nbytes = nb.lit;
  o.nbytesVar = nb.slot;
  o.base = baseOf(op.string, isString);
  const off = num(op.offset, vars, 'byte_math offset');
  o.offset = off.lit;
  o.offsetVar = off.slot;
  const rv = num(op.rvalue, vars, 'byte_math rvalue');
  o.value = rv.lit;
  o.valueVar = rv.slot;
  o.oper = OPER[op.oper];
  if (o.oper === undefined) throw new InspectCompileError(`byte_math: unknown operator ${op.oper}`);
  o.relative = op.relative;
  o.little = op.endian === 'little';
  o.dce = op.endian === 'dce';
  setBitmask(o, op.bitmask, 'byte_math');
  o.resultVar = vars.index(op.result);
  return o;
}

function compileIsDataAt(op: IsDataAtOp, vars: RuleVars, o: Op): Op {
  o.k = K.ISDATAAT;
  const v = num(op.offset, vars, 'isdataat');
  o.offset = v.lit;
  o.offsetVar = v.slot;
  o.relative = op.relative;
  o.negated = op.negated;
  return o;
}

function cmpOf(c: IntCompare): Cmp {
  switch (c.op) {
    case '=':
      return Cmp.EQ;
    case '!=':
      return Cmp.NE;
    case '<':
      return Cmp.LT;
    case '<=':
      return Cmp.LE;
    case '>':
      return Cmp.GT;
    case '>=':
      return Cmp.GE;
    case '<>':
      return Cmp.RANGE_EX;
    case '-':
      return Cmp.RANGE_IN;
    default:
      throw new InspectCompileError(`unknown comparison ${String((c as { op: string }).op)}`);
  }
}

function compileBsize(op: BsizeOp, o: Op): Op {
  o.k = K.BSIZE;
  o.cmp = cmpOf(op.cmp);
  o.value = op.cmp.value;
  o.hi = op.cmp.hi ?? 0;
  return o;
}

function compileBase64(op: Base64DecodeOp, vars: RuleVars, o: Op, opts: CompileOptions): Op {
  o.k = K.BASE64;
  const bytes = op.bytes ?? 0;
  if (bytes < 0 || op.offset < 0) throw new InspectCompileError('base64_decode: negative bytes/offset');
  o.b64Bytes = bytes === 0 || bytes > BASE64_DECODE_MAX ? BASE64_DECODE_MAX : bytes;
  o.offset = op.offset;
  o.relative = op.relative;
  if (opts.base64Data) {
    if (opts.base64Data.ops.some((x) => x.kind === 'base64_decode')) throw new InspectCompileError('base64_decode inside base64_data is not supported');
    o.b64Data = compileProgram(opts.base64Data, vars, { datasets: opts.datasets });
  }
  return o;
}

const DS_CMD = { set: 0, isset: 1, isnotset: 2, unset: 3 } as const;

function compileDataset(op: DatasetOp, o: Op, opts: CompileOptions): Op {
  o.k = K.DATASET;
  o.dsCmd = DS_CMD[op.cmd];
  if (o.dsCmd === undefined) throw new InspectCompileError(`dataset: unknown command ${op.cmd}`);
  const reg = opts.datasets ?? defaultDatasets;
  try {
    o.dataset = reg.get(op.name, op.type, op.load, op.state);
  } catch (e) {
    throw new InspectCompileError((e as Error).message);
  }
  o.dsName = op.name;
  return o;
}

/**
 * Compile a buffer program. Throws InspectCompileError naming the first op
 * that cannot run. `vars` is shared by all programs of one rule, so a
 * variable extracted in one buffer program can be used by a later one.
 */
export function compileProgram(prog: BufferProgram, vars: RuleVars, opts: CompileOptions = {}): CompiledProgram {
  const ops: Op[] = [];
  for (const op of prog.ops) ops.push(compileOp(op, vars, opts));
  // Suricata sets RELATIVE_NEXT on the last content/pcre before each relative op.
  let lastCp = -1;
  for (let i = 0; i < ops.length; i++) {
    const o = ops[i];
    if (o.relative && lastCp >= 0) ops[lastCp].relNext = true;
    if (o.k === K.CONTENT || o.k === K.PCRE) lastCp = i;
  }
  for (const o of ops) if (o.k === K.CONTENT && o.relNext) o.single = false;
  if (ops.length) ops[ops.length - 1].last = true;
  return { buffer: prog.buffer, varCount: vars.count, ops };
}

/**
 * Run a compiled program over buf[off, off+len). True when every op
 * matched (with backtracking as Suricata does). Never throws on input.
 */
export function runProgram(p: CompiledProgram, buf: Buffer, off: number, len: number, st: InspectState, env?: InspectEnv): boolean {
  if (p.ops.length === 0) return true;
  if (st.vars.length < p.varCount) {
    const v = new Float64Array(p.varCount + 8);
    v.set(st.vars);
    st.vars = v;
  }
  if (off < 0) off = 0;
  if (off > buf.length) off = buf.length;
  if (len < 0) len = 0;
  if (off + len > buf.length) len = buf.length - off;
  st.bufferOffset = 0;
  st.pcreStart = 0;
  st.recursion = 0;
  st.strBuf = null;
  st.str = '';
  st.env = env;
  st.memo.begin(p.ops.length);
  const r = inspect(p.ops, 0, buf, off, len, st);
  st.strBuf = null;
  st.str = '';
  st.env = undefined;
  return r === 1;
}

/** Result codes as in Suricata: 1 match, 0 no match (earlier ops may retry), -1 no match and stop. */
const MATCH = 1;
const NO_MATCH = 0;
const STOP = -1;

function next(ops: readonly Op[], i: number, buf: Uint8Array, base: number, blen: number, st: InspectState): number {
  return ops[i].last ? MATCH : inspect(ops, i + 1, buf, base, blen, st);
}

function inspect(ops: readonly Op[], i: number, buf: Uint8Array, base: number, blen: number, st: InspectState): number {
  st.recursion++;
  if (st.recursion === INSPECTION_RECURSION_LIMIT) {
    st.recursionLimitHits++;
    return STOP;
  }
  const o = ops[i];
  switch (o.k) {
    case K.CONTENT:
      return inspectContent(ops, i, o, buf, base, blen, st);
    case K.PCRE:
      return inspectPcre(ops, i, o, buf, base, blen, st);
    case K.ISDATAAT: {
      let at = o.offset;
      if (o.offsetVar >= 0) {
        at = st.vars[o.offsetVar];
        if (at >= 100000000) return o.negated ? next(ops, i, buf, base, blen, st) : NO_MATCH;
      }
      if (o.relative) {
        if (st.bufferOffset + at > blen) {
          if (o.negated) return next(ops, i, buf, base, blen, st);
          return o.offsetVar < 0 ? STOP : NO_MATCH;
        }
        return o.negated ? NO_MATCH : next(ops, i, buf, base, blen, st);
      }
      if (at < blen) {
        if (o.negated) return o.offsetVar < 0 ? STOP : NO_MATCH;
        return next(ops, i, buf, base, blen, st);
      }
      if (o.negated) return next(ops, i, buf, base, blen, st);
      return o.offsetVar < 0 ? STOP : NO_MATCH;
    }
    case K.BSIZE:
      return compare(blen, o.cmp, o.value, o.hi) ? next(ops, i, buf, base, blen, st) : STOP;
    case K.BYTE_TEST:
      return byteTest(o, buf, base, blen, st) ? next(ops, i, buf, base, blen, st) : NO_MATCH;
    case K.BYTE_JUMP:
      return byteJump(o, buf, base, blen, st) ? next(ops, i, buf, base, blen, st) : NO_MATCH;
    case K.BYTE_EXTRACT:
      return byteExtract(o, buf, base, blen, st) ? next(ops, i, buf, base, blen, st) : NO_MATCH;
    case K.BYTE_MATH:
      return byteMath(o, buf, base, blen, st) ? next(ops, i, buf, base, blen, st) : NO_MATCH;
    case K.BASE64:
      return base64Decode(o, buf, base, blen, st);
    case K.DATASET:
      return datasetMatch(o, buf, base, blen, st) ? next(ops, i, buf, base, blen, st) : STOP;
  }
  return NO_MATCH;
}

function inspectContent(ops: readonly Op[], i: number, o: Op, buf: Uint8Array, base: number, blen: number, st: InspectState): number {
  const prevBufferOffset = st.bufferOffset;
  let prevOffset = 0; // retry start (previous match start + 1), 0 on the first try
  const vars = st.vars;
  for (;;) {
    let depth = blen;
    let offset = 0;
    if (o.relative) {
      offset = prevBufferOffset;
      let distance = o.distance;
      if (o.hasDistance) {
        if (o.distanceVar >= 0) distance = vars[o.distanceVar] | 0;
        if (distance < 0 && -distance > offset) offset = 0;
        else offset += distance;
      }
      if (o.hasWithin) {
        const within = o.withinVar >= 0 ? vars[o.withinVar] : o.within;
        const end = prevBufferOffset + within + distance;
        // Suricata compares as int32 and stores as uint32: a negative end wraps to "no limit".
        if (depth > end) depth = end < 0 ? blen : end;
      }
      if (o.hasDepth) {
        const d = o.depthVar >= 0 ? vars[o.depthVar] : o.depth;
        if (d + prevBufferOffset < depth) depth = prevBufferOffset + d;
      }
      const absOff = o.offsetVar >= 0 ? vars[o.offsetVar] : o.offset;
      if (absOff > offset) offset = absOff;
    } else {
      offset = o.offsetVar >= 0 ? vars[o.offsetVar] : o.offset;
      if (o.hasDepth) depth = offset + (o.depthVar >= 0 ? vars[o.depthVar] : o.depth);
    }
    if (prevOffset !== 0) offset = prevOffset;
    if (depth > blen) depth = blen;
    if (offset > depth || depth <= 0) return o.negated ? next(ops, i, buf, base, blen, st) : NO_MATCH;

    let found = -1;
    const m = o.patLen;
    if (!(o.endsWith && depth < blen) && m <= depth - offset) found = searchMemo(o, i, buf, base, blen, offset, depth, st.memo);
    if (found < 0) {
      if (!o.negated) return o.relative ? NO_MATCH : STOP;
      return next(ops, i, buf, base, blen, st);
    }
    const matchEnd = found - base + m;
    if (o.negated) {
      if (o.endsWith && depth - offset !== matchEnd) return next(ops, i, buf, base, blen, st);
      return o.single ? STOP : NO_MATCH;
    }
    st.bufferOffset = matchEnd;
    if (!o.endsWith || matchEnd === blen) {
      if (o.last) return MATCH;
      const r = inspect(ops, i + 1, buf, base, blen, st);
      if (r === MATCH) return MATCH;
      if (r === STOP) return STOP;
      if (!o.relNext) return STOP;
    }
    prevOffset = matchEnd - (m - 1);
  }
}

/** First occurrence of the op's pattern in buf[base+offset, base+depth) (absolute), or -1; through the memo once the op has searched about a buffer length. */
function searchMemo(o: Op, i: number, buf: Uint8Array, base: number, blen: number, offset: number, depth: number, mm: SearchMemo): number {
  if (mm.opEp[i] !== mm.epoch) {
    mm.opEp[i] = mm.epoch;
    mm.opBytes[i] = 0;
    mm.occCount[i] = -1;
  }
  let cnt = mm.occCount[i]!;
  if (cnt < 0) {
    const spent = mm.opBytes[i]! + (depth - offset);
    mm.opBytes[i] = spent;
    if (spent <= blen || blen < 256 || !mm.enabled) {
      return o.nocase ? searchNocase(buf, base + offset, base + depth, o.pat) : searchExact(buf, base + offset, base + depth, o.pat);
    }
    cnt = listOccurrences(o, i, buf, base, blen, mm);
  }
  // First listed occurrence at or after base+offset, then bounded by depth.
  mm.hits++;
  const occ = mm.occ;
  let lo = mm.occStart[i]!;
  let hi = lo + cnt;
  const from = base + offset;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (occ[mid]! < from) lo = mid + 1;
    else hi = mid;
  }
  if (lo === mm.occStart[i]! + cnt) return -1;
  const f = occ[lo]!;
  return f + o.patLen <= base + depth ? f : -1;
}

/** List every (overlapping) occurrence of the op's pattern in buf[base, base+blen) into the memo; returns the count. */
function listOccurrences(o: Op, i: number, buf: Uint8Array, base: number, blen: number, mm: SearchMemo): number {
  const start = mm.occTop;
  let top = start;
  const end = base + blen;
  for (let at = base; ; ) {
    const f = o.nocase ? searchNocase(buf, at, end, o.pat) : searchExact(buf, at, end, o.pat);
    if (f < 0) break;
    if (top === mm.occ.length) {
      const g = new Int32Array(mm.occ.length * 2);
      g.set(mm.occ);
      mm.occ = g;
    }
    mm.occ[top++] = f;
    at = f + 1;
  }
  mm.occTop = top;
  mm.occStart[i] = start;
  mm.occCount[i] = top - start;
  return top - start;
}

/**
 * First index of pat in buf[from, end) (absolute), or -1. A JS loop testing
 * first and last byte before the rest, bounded to the window: Buffer.indexOf
 * cannot be bounded at `end` and would scan on to the end of a shared
 * capture chunk on a miss. Measured (bench/mpm.bench.ts, every payload of
 * public-mix.pcap): 597 MB/s for an 8-byte exact content, 304 MB/s nocase.
 */
function searchExact(buf: Uint8Array, from: number, end: number, pat: Uint8Array): number {
  const m = pat.length;
  const last = end - m;
  const p0 = pat[0];
  if (m === 1) {
    for (let i = from; i <= last; i++) if (buf[i] === p0) return i;
    return -1;
  }
  const pl = pat[m - 1];
  for (let i = from; i <= last; i++) {
    if (buf[i] !== p0 || buf[i + m - 1] !== pl) continue;
    let k = 1;
    while (k < m - 1 && buf[i + k] === pat[k]) k++;
    if (k >= m - 1) return i;
  }
  return -1;
}

/** Like searchExact with ASCII case folded (pat is stored folded). */
function searchNocase(buf: Uint8Array, from: number, end: number, pat: Uint8Array): number {
  const m = pat.length;
  const last = end - m;
  const fold = FOLD;
  const p0 = pat[0];
  const pl = pat[m - 1];
  for (let i = from; i <= last; i++) {
    if (fold[buf[i]] !== p0 || fold[buf[i + m - 1]] !== pl) continue;
    let k = 1;
    while (k < m - 1 && fold[buf[i + k]] === pat[k]) k++;
    if (k >= m - 1) return i;
  }
  return -1;
}

function subjectOf(buf: Uint8Array, base: number, blen: number, st: InspectState): string {
  if (st.strBuf !== buf || st.strOff !== base || st.strLen !== blen) {
    st.str = (Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength)).toString('latin1', base, base + blen);
    st.strBuf = buf;
    st.strOff = base;
    st.strLen = blen;
  }
  return st.str;
}

/** One pcre run at the current state; 1 match, 0 no match (negation applied), -1 error (timeout). */
function pcreMatch(o: Op, opIndex: number, buf: Uint8Array, base: number, blen: number, st: InspectState): number {
  const p = o.pcre as CompiledPcre;
  const whole = subjectOf(buf, base, blen, st);
  const rel = p.relative ? Math.min(st.bufferOffset, blen) : 0;
  const subject = rel === 0 ? whole : whole.substring(rel);
  const from = st.pcreStart !== 0 ? st.pcreStart - rel : 0;
  if (from > subject.length) return p.negated ? 1 : 0;
  // A first try that failed at this start before in this inspection fails again (same subject).
  const mm = st.memo;
  const first = from <= 0 && mm.enabled;
  const slot = first ? (Math.imul(opIndex + 1, 0x9e3779b1) ^ Math.imul(rel, 0x85ebca6b)) >>> 22 : 0;
  if (first && mm.pcreEp[slot] === mm.epoch && mm.pcreOp[slot] === opIndex && mm.pcreAt[slot] === rel) {
    mm.hits++;
    return p.negated ? 1 : 0;
  }
  const r = execPcre(p, subject, from < 0 ? 0 : from);
  if (r === 0 && first) {
    mm.pcreEp[slot] = mm.epoch;
    mm.pcreOp[slot] = opIndex;
    mm.pcreAt[slot] = rel;
  }
  if (r < 0) {
    st.pcreTimeouts++;
    return -1;
  }
  if (r === 0) return p.negated ? 1 : 0;
  if (p.negated) return 0;
  if (p.captures.length && st.env?.setVar && pcreResult.groups) {
    for (const [g, name] of p.captures) {
      const v = pcreResult.groups[g];
      if (v !== undefined) st.env.setVar(name, v);
    }
  }
  st.bufferOffset = rel + pcreResult.end;
  st.pcreStart = rel + pcreResult.start + 1;
  return 1;
}

function inspectPcre(ops: readonly Op[], i: number, o: Op, buf: Uint8Array, base: number, blen: number, st: InspectState): number {
  const prevBufferOffset = st.bufferOffset;
  st.pcreStart = 0;
  for (;;) {
    const r = pcreMatch(o, i, buf, base, blen, st);
    // A guarded run that timed out ends the inspection (no match): retrying
    // other occurrences would spend the time budget again and again.
    if (r < 0) return STOP;
    if (r !== 1) return NO_MATCH;
    if (!o.relNext) return next(ops, i, buf, base, blen, st);
    const prevOffset = st.pcreStart;
    if (o.last) return MATCH;
    const n = inspect(ops, i + 1, buf, base, blen, st);
    if (n === MATCH) return MATCH;
    if (n === STOP) return STOP;
    if (prevOffset === 0) return NO_MATCH; // negated pcre: nothing to retry
    st.bufferOffset = prevBufferOffset;
    st.pcreStart = prevOffset;
  }
}

function compare(v: number, cmp: Cmp, value: number, hi: number): boolean {
  switch (cmp) {
    case Cmp.EQ:
      return v === value;
    case Cmp.NE:
      return v !== value;
    case Cmp.LT:
      return v < value;
    case Cmp.LE:
      return v <= value;
    case Cmp.GT:
      return v > value;
    case Cmp.GE:
      return v >= value;
    case Cmp.RANGE_EX:
      return v > value && v < hi;
    case Cmp.RANGE_IN:
      return v >= value && v <= hi;
    case Cmp.AND:
      return and64(v, value) !== 0;
    case Cmp.XOR:
      return xor64(v, value) !== 0;
  }
  return false;
}

function littleFor(o: Op, st: InspectState): boolean {
  return o.dce ? !(st.env?.dceBigEndian ?? false) : o.little;
}

/**
 * Extract o.nbytes at position pos (relative to the buffer start) into
 * st.num[0] (value) / st.num[1] (bytes consumed). Bounds are checked by the caller.
 */
function extract(o: Op, buf: Uint8Array, base: number, pos: number, st: InspectState): boolean {
  if (o.base === 0) {
    st.num[0] = readUint(buf, base + pos, o.nbytes, littleFor(o, st));
    st.num[1] = o.nbytes;
    return true;
  }
  // strtoull stops at NUL; readString honours that through its digit check.
  return readString(buf, base + pos, o.nbytes, o.base, st.num);
}

/**
 * byte_test and byte_jump: the position of the number (absolute or after the
 * previous match), bounds, then the number itself into st.num; -1 when it
 * cannot be read, else the position.
 */
function readNumberAt(o: Op, buf: Uint8Array, base: number, blen: number, st: InspectState): number {
  if (blen === 0) return -1;
  const offset = o.offsetVar >= 0 ? st.vars[o.offsetVar] | 0 : o.offset;
  let pos = offset;
  let len = blen - offset;
  if (o.relative) {
    pos += st.bufferOffset;
    len -= st.bufferOffset;
  }
  let n = o.nbytes;
  if (o.nbytesVar >= 0) {
    n = st.vars[o.nbytesVar];
    if (!Number.isInteger(n) || n < 1 || n > (o.base === 0 ? 8 : 23)) return -1;
  }
  if (n === 0) {
    if (pos < 0 || len < 0) return -1;
    if (o.base === 0) {
      // byte_jump over zero bytes: nothing read; the cursor may sit at the very end.
      st.num[0] = 0;
      st.num[1] = 0;
      return pos;
    }
    // A string number running to the end of the buffer (at most the 23 characters strtoull can use).
    return len > 0 && readString(buf, base + pos, Math.min(len, 23), o.base, st.num) ? pos : -1;
  }
  if (o.relative && len <= 0) return -1;
  if (pos < 0 || n > len) return -1;
  if (n === o.nbytes) return extract(o, buf, base, pos, st) ? pos : -1;
  if (o.base === 0) {
    st.num[0] = readUint(buf, base + pos, n, littleFor(o, st));
    st.num[1] = n;
    return pos;
  }
  return readString(buf, base + pos, n, o.base, st.num) ? pos : -1;
}

function byteTest(o: Op, buf: Uint8Array, base: number, blen: number, st: InspectState): boolean {
  if (readNumberAt(o, buf, base, blen, st) < 0) return false;
  let val = st.num[0];
  if (o.bitmask !== 0) val = applyBitmask(val, o.bitmask, o.bitmaskShift);
  const value = o.valueVar >= 0 ? st.vars[o.valueVar] : o.value;
  const m = compare(val, o.cmp, value, 0);
  return m !== o.negated;
}

function byteJump(o: Op, buf: Uint8Array, base: number, blen: number, st: InspectState): boolean {
  const pos = readNumberAt(o, buf, base, blen, st);
  if (pos < 0) return false;
  let val = st.num[0];
  const ext = st.num[1];
  if (o.bitmask !== 0) val = applyBitmask(val, o.bitmask, o.bitmaskShift);
  val *= o.multiplier;
  if (o.align !== 0 && val % 4 !== 0) val += 4 - (val % 4);
  val += o.postOffset;
  let jump: number;
  if (o.fromBeginning) jump = val;
  else if (o.fromEnd) jump = blen + val;
  else jump = pos + val + ext;
  if (jump < 0) jump = 0;
  else if (jump > blen) return false;
  st.bufferOffset = jump;
  return true;
}

function byteExtract(o: Op, buf: Uint8Array, base: number, blen: number, st: InspectState): boolean {
  let pos: number;
  let len: number;
  if (o.relative) {
    pos = st.bufferOffset + o.offset;
    len = blen - st.bufferOffset - o.offset;
    if (len <= 0) return false;
  } else {
    pos = o.offset;
    len = blen - o.offset;
  }
  if (pos < 0 || o.nbytes > len) return false;
  if (!extract(o, buf, base, pos, st)) return false;
  let val = st.num[0];
  const ext = st.num[1];
  if (o.bitmask !== 0) val = applyBitmask(val, o.bitmask, o.bitmaskShift);
  val = wrap64(val * o.multiplier);
  if (o.align !== 0 && val % o.align !== 0) val += o.align - (val % o.align);
  st.bufferOffset = pos + ext;
  st.vars[o.resultVar] = val;
  return true;
}

function byteMath(o: Op, buf: Uint8Array, base: number, blen: number, st: InspectState): boolean {
  if (blen === 0) return false;
  const offset = o.offsetVar >= 0 ? st.vars[o.offsetVar] | 0 : o.offset;
  let pos: number;
  let len: number;
  if (o.relative) {
    pos = st.bufferOffset + offset;
    len = blen - st.bufferOffset - offset;
    if (len <= 0) return false;
  } else {
    pos = offset;
    len = blen - offset;
  }
  let n = o.nbytes;
  if (o.nbytesVar >= 0) {
    n = st.vars[o.nbytesVar];
    if (!Number.isInteger(n) || n < 1 || n > (o.base === 0 ? 4 : 10)) return false;
  }
  if (pos < 0 || n > len) return false;
  if (n === o.nbytes) {
    if (!extract(o, buf, base, pos, st)) return false;
  } else if (o.base === 0) {
    st.num[0] = readUint(buf, base + pos, n, littleFor(o, st));
  } else if (!readString(buf, base + pos, n, o.base, st.num)) return false;
  let val = st.num[0];
  const rv = o.valueVar >= 0 ? st.vars[o.valueVar] : o.value;
  switch (o.oper) {
    case 0:
      val = wrap64(val + rv);
      break;
    case 1:
      val = wrap64(val - rv);
      break;
    case 2:
      val = wrap64(val * rv);
      break;
    case 3:
      if (rv === 0) return false;
      val = Math.floor(val / rv);
      break;
    case 4:
      val = rv < 64 ? wrap64(val * 2 ** rv) : 0;
      break;
    case 5:
      val = rv < 64 ? Math.floor(val / 2 ** rv) : 0;
      break;
  }
  if (o.bitmask !== 0) val = applyBitmask(val, o.bitmask, o.bitmaskShift);
  st.vars[o.resultVar] = val;
  return true;
}

function base64Decode(o: Op, buf: Uint8Array, base: number, blen: number, st: InspectState): number {
  let start = 0;
  let avail = blen;
  if (o.relative) {
    start = st.bufferOffset;
    avail = blen - st.bufferOffset;
  }
  if (o.offset) {
    if (o.offset >= avail) return NO_MATCH;
    start += o.offset;
    avail -= o.offset;
  }
  const n = Math.min(avail, o.b64Bytes);
  if (n <= 0) return NO_MATCH;
  const need = Math.min(BASE64_DECODE_MAX, Math.ceil(n / 4) * 3 + 3);
  if (st.b64.length < need) st.b64 = new Uint8Array(Math.max(need, st.b64.length * 2));
  const out = st.b64;
  const decoded = decodeBase64Relaxed(buf, base + start, n, out.subarray(0, Math.min(out.length, BASE64_DECODE_MAX)));
  // The decoded buffer replaces any cached latin1 subject of the same storage.
  if (st.strBuf === out) st.strBuf = null;
  if (decoded === 0 || o.b64Data === null) return NO_MATCH;
  const data = o.b64Data;
  if (st.vars.length < data.varCount) return NO_MATCH;
  if (data.ops.length === 0) return MATCH;
  st.bufferOffset = 0;
  // base64_data is terminal: its result is the rule's result for this buffer.
  const saveStr = st.strBuf;
  // Another buffer and program: the memo's entries (by op index) must not mix.
  st.memo.begin(Math.max(data.ops.length, st.memo.opEp.length));
  const r = inspect(data.ops, 0, out, 0, decoded, st);
  st.memo.begin(st.memo.opEp.length);
  if (saveStr !== null) st.strBuf = null; // the subject cache now describes the decoded buffer; drop it either way
  return r === MATCH ? MATCH : NO_MATCH;
}

function datasetMatch(o: Op, buf: Uint8Array, base: number, blen: number, st: InspectState): boolean {
  let ds = o.dataset as Dataset;
  const reg = st.env?.datasets;
  if (reg) ds = reg.find(o.dsName) ?? ds;
  switch (o.dsCmd) {
    case 0:
      return ds.add(buf, base, blen);
    case 1:
      return ds.has(buf, base, blen);
    case 2:
      return !ds.has(buf, base, blen);
    case 3:
      return ds.remove(buf, base, blen);
  }
  return false;
}
