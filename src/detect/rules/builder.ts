/**
 * The state of one rule while its options are read, and the checks done once
 * all options are in (Suricata's "validate" step).
 *
 * Keywords (src/detect/keywords/) only talk to this builder. Buffer ops are
 * kept in one flat list, each tagged with its buffer, because legacy
 * modifiers (`content:"x"; http_uri;`) move a content into a buffer after the
 * fact; programs are formed at the end in order of first use.
 */
import type {
  BufferName,
  BufferOp,
  BufferProgram,
  ContentOp,
  DetectionFilterSpec,
  FlowbitsOp,
  FlowintOp,
  FlowOptions,
  PacketCheck,
  Rule,
  RuleHeader,
  RuleMeta,
  TagSpec,
  ThresholdSpec,
  TransformName,
  XbitsOp,
} from './ast.js';
import { fail } from './errors.js';

export interface ClassType {
  name: string;
  description: string;
  priority: number;
}

/** What a rule is parsed against: variables and the config files' tables. */
export interface RuleParseContext {
  vars: { addressGroups: Record<string, string>; portGroups: Record<string, string> };
  /** classification.config: classtype name → description/priority. Without it, any classtype is accepted with category ''. */
  classifications?: Map<string, ClassType>;
  /** reference.config: system → URL prefix. Unknown systems only warn. */
  references?: Map<string, string>;
  /** For `source` and relative `dataset` paths. */
  file?: string;
  line?: number;
  /** Receives non-fatal remarks about the rule (unknown reference system, …). */
  warn?: (msg: string) => void;
}

interface OpEntry {
  buffer: BufferName;
  transforms: TransformName[] | null;
  /** Placed by a sticky buffer (true) or by default in pkt_data/a legacy modifier (false). */
  sticky: boolean;
  op: BufferOp;
}

/** App-layer protocol a buffer implies (used to reject `alert dns … http.uri`). */
export function bufferProto(b: BufferName): string | null {
  if (b.startsWith('http.')) return 'http';
  if (b.startsWith('dns.')) return 'dns';
  if (b.startsWith('tls.')) return 'tls';
  // ja3/ja4 also exist for QUIC: no single protocol.
  if (b.startsWith('ssh.')) return 'ssh';
  return null;
}

export class RuleBuilder {
  readonly ctx: RuleParseContext;
  header: RuleHeader;
  gid = 1;
  sid: number | null = null;
  rev = 0;
  msg = '';
  classtype: string | null = null;
  priority: number | null = null;
  references: { system: string; id: string }[] = [];
  metadata: Record<string, string[]> = {};
  target: 'src_ip' | 'dest_ip' | null = null;
  flow: FlowOptions | null = null;
  checks: PacketCheck[] = [];
  flowbits: FlowbitsOp[] = [];
  flowints: FlowintOp[] = [];
  xbits: XbitsOp[] = [];
  threshold: ThresholdSpec | null = null;
  detectionFilter: DetectionFilterSpec | null = null;
  tag: TagSpec | null = null;
  noalert = false;
  prefilter = false;
  /** Set by base64_decode: base64_data may follow. */
  sawBase64Decode = false;

  private entries: OpEntry[] = [];
  /** Current sticky buffer, or null for the default (pkt_data, legacy modifiers allowed). */
  private cur: { buffer: BufferName; transforms: TransformName[] | null } | null = null;
  private lastContentEntry: OpEntry | null = null;
  private fastPatternSeen = false;

  constructor(ctx: RuleParseContext, header: RuleHeader) {
    this.ctx = ctx;
    this.header = header;
  }

  /** A sticky buffer keyword: following content/pcre/byte_*… go to `buffer`. */
  setSticky(buffer: BufferName): void {
    this.cur = { buffer, transforms: null };
  }

  /** `pkt_data`: back to the default buffer. */
  resetSticky(): void {
    this.cur = null;
  }

  get currentBuffer(): BufferName {
    return this.cur?.buffer ?? 'pkt_data';
  }

  get stickyActive(): boolean {
    return this.cur !== null;
  }

  addTransform(t: TransformName): void {
    if (this.cur === null) fail(`transform ${t} needs a sticky buffer before it`);
    // A transform after some content of the same buffer starts a new
    // (transformed) buffer for what follows; ops already added keep theirs.
    this.cur = { buffer: this.cur.buffer, transforms: [...(this.cur.transforms ?? []), t] };
  }

  /** Appends an op to the current buffer (or `buffer` when given, e.g. pcre /U, urilen). */
  addOp(op: BufferOp, buffer?: BufferName): void {
    // Without a sticky buffer, Suricata puts base64_decode and relative byte_*/isdataat in the
    // list of the last content/pcre — after `content:"arg"; http_uri;` that is http.uri.
    if (buffer === undefined && this.cur === null && followsLastMatch(op)) {
      const last = this.lastMatchEntry();
      if (last !== null && !last.sticky && last.buffer !== 'pkt_data') buffer = last.buffer;
    }
    const e: OpEntry =
      buffer === undefined
        ? { buffer: this.currentBuffer, transforms: this.cur?.transforms ?? null, sticky: this.cur !== null, op }
        : { buffer, transforms: null, sticky: false, op };
    this.entries.push(e);
    if (op.kind === 'content') this.lastContentEntry = e;
  }

  private lastMatchEntry(): OpEntry | null {
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const e = this.entries[i]!;
      if (e.op.kind === 'content' || e.op.kind === 'pcre') return e;
    }
    return null;
  }

  /** Whether any content or pcre precedes in `buffer` (for pcre /R). */
  hasMatchIn(buffer: BufferName): boolean {
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const e = this.entries[i]!;
      if (e.buffer === buffer && (e.op.kind === 'content' || e.op.kind === 'pcre')) return true;
    }
    return false;
  }

  /** The content a modifier (nocase, depth, …) applies to: the last one in the rule. */
  lastContent(keyword: string): ContentOp {
    if (this.lastContentEntry === null) fail(`${keyword} needs a preceding content`);
    return this.lastContentEntry.op as ContentOp;
  }

  /** Legacy modifier (`http_uri`, …): moves the last content into `buffer`. */
  moveLastContent(keyword: string, buffer: BufferName): void {
    const e = this.lastContentEntry;
    if (e === null) fail(`${keyword} needs a preceding content`);
    if (e.buffer !== 'pkt_data' && e.buffer !== buffer) {
      fail(`${keyword} used on a content that is already in ${e.buffer}`);
    }
    if ((e.op as ContentOp).rawbytes) fail(`${keyword} cannot be combined with rawbytes`);
    e.buffer = buffer;
    e.sticky = false;
  }

  markFastPattern(keyword: string): ContentOp {
    const c = this.lastContent(keyword);
    if (this.fastPatternSeen) fail('fast_pattern can be used on only one content per rule');
    this.fastPatternSeen = true;
    c.fastPattern = true;
    return c;
  }

  /** Builds the final Rule after Suricata-like validation. */
  finish(source: { file: string; line: number; text: string }): Rule {
    if (this.sid === null) fail('rule has no sid');
    const cls = this.classtype === null ? undefined : this.ctx.classifications?.get(this.classtype);
    if (this.classtype !== null && this.ctx.classifications !== undefined && this.ctx.classifications.size > 0 && cls === undefined) {
      fail(`unknown classtype "${this.classtype}" (not in classification.config)`);
    }
    const buffers = this.programs();
    this.checkProtocol(buffers);
    const meta: RuleMeta = {
      gid: this.gid,
      sid: this.sid,
      rev: this.rev,
      msg: this.msg,
      classtype: this.classtype,
      priority: this.priority ?? cls?.priority ?? 3,
      category: cls?.description ?? '',
      references: this.references,
      metadata: this.metadata,
      target: this.target,
    };
    return {
      header: this.header,
      meta,
      flow: this.flow,
      buffers,
      checks: this.checks,
      flowbits: this.flowbits,
      flowints: this.flowints,
      xbits: this.xbits,
      threshold: this.threshold,
      detectionFilter: this.detectionFilter,
      tag: this.tag,
      noalert: this.noalert,
      prefilter: this.prefilter,
      source,
    };
  }

  private programs(): BufferProgram[] {
    const out: BufferProgram[] = [];
    const byKey = new Map<string, BufferProgram>();
    for (const e of this.entries) {
      const key = e.transforms === null ? e.buffer : `${e.buffer}|${e.transforms.join(',')}`;
      let p = byKey.get(key);
      if (p === undefined) {
        p = { buffer: e.buffer, ops: [] };
        if (e.transforms !== null) p.transforms = e.transforms;
        byKey.set(key, p);
        out.push(p);
      }
      p.ops.push(e.op);
    }
    for (const p of out) validateProgram(p);
    if (byKey.has('base64_data') && !this.sawBase64Decode) fail('base64_data needs a base64_decode before it');
    return out;
  }

  private checkProtocol(buffers: BufferProgram[]): void {
    const hp = this.header.proto;
    const ruleProto = hp === 'http1' || hp === 'http2' ? 'http' : hp;
    if (!APP_PROTOS.has(ruleProto)) return;
    for (const p of buffers) {
      const bp = bufferProto(p.buffer);
      if (bp !== null && bp !== ruleProto) fail(`buffer ${p.buffer} does not apply to a "${hp}" rule`);
    }
  }
}

/** Ops that Suricata attaches to the last content's list when no sticky buffer is active. */
function followsLastMatch(op: BufferOp): boolean {
  switch (op.kind) {
    case 'base64_decode':
      return true;
    case 'byte_test':
    case 'byte_jump':
    case 'byte_extract':
    case 'byte_math':
    case 'isdataat':
      return op.relative;
    default:
      return false;
  }
}

const APP_PROTOS = new Set(['http', 'dns', 'tls', 'ssh', 'smtp', 'ftp', 'smb', 'dcerpc', 'nfs', 'krb5', 'dhcp', 'snmp', 'sip', 'rdp', 'mqtt', 'modbus', 'dnp3', 'enip', 'ike', 'ntp', 'tftp', 'quic', 'rfb', 'pgsql', 'telnet', 'websocket', 'ldap', 'bittorrent-dht', 'imap', 'pop3', 'ftp-data', 'irc', 'http2', 'http1']);

function len(c: ContentOp): number {
  return c.bytes.length;
}

/** Suricata's per-content checks that reject rules which can never match or are ambiguous. */
function validateProgram(p: BufferProgram): void {
  let bsizeMax: number | null = null;
  for (const op of p.ops) {
    if (op.kind === 'bsize') {
      const c = op.cmp;
      bsizeMax = c.op === '=' || c.op === '<=' ? c.value : c.op === '<' ? c.value - 1 : c.op === '<>' ? (c.hi ?? 0) - 1 : c.op === '-' ? (c.hi ?? null) : null;
    }
  }
  for (const op of p.ops) {
    if (op.kind !== 'content') continue;
    const n = len(op);
    if (typeof op.within === 'number' && op.within < n) fail(`within (${op.within}) is smaller than the content length (${n})`);
    if (typeof op.depth === 'number' && op.depth < n) fail(`depth (${op.depth}) is smaller than the content length (${n})`);
    if ((op.distance !== null || op.within !== null) && (op.offset !== null || op.depth !== null)) {
      fail('a content cannot mix relative (distance/within) and absolute (offset/depth) modifiers');
    }
    if (op.startsWith && (op.offset !== null || op.depth !== null || op.distance !== null || op.within !== null)) {
      fail('startswith cannot be combined with offset, depth, distance or within');
    }
    if (op.endsWith && op.negated && op.startsWith) fail('negated content cannot use both startswith and endswith');
    if (op.fastPatternChop !== null) {
      const [o, l] = op.fastPatternChop;
      if (o + l > n) fail(`fast_pattern ${o},${l} is outside the content (length ${n})`);
    }
    if (op.fastPatternOnly && op.negated) fail('fast_pattern:only cannot be used on a negated content');
    if (p.buffer === 'http.host' && p.transforms === undefined && !op.nocase && op.bytes.some((x) => x >= 0x41 && x <= 0x5a)) {
      fail('http.host content has upper-case letters but the buffer is lower-case: it can never match');
    }
    if (bsizeMax !== null && !op.negated && n > bsizeMax) fail(`content length ${n} exceeds bsize ${bsizeMax}: the rule can never match`);
  }
}
