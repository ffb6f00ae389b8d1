/**
 * The parsed form of one Suricata-language rule: the contract between the
 * rule front end (src/detect/rules/, src/detect/keywords/) and the engine
 * (src/detect/engine/).
 *
 * The front end resolves everything that does not depend on traffic:
 * variables, address and port groups with negation, keyword arguments, the
 * sticky-buffer each content/pcre/byte_* belongs to (legacy modifiers such as
 * `http_uri` and pcre's `/U` mapped to the same buffer names as the sticky
 * keywords), so the engine only compiles and runs. Nothing here holds
 * per-packet state.
 *
 * Semantics follow Suricata 7's rule language; comments name the keyword.
 */

/** Rule actions. IDS semantics: everything but `pass` alerts; `pass` suppresses later matches on the packet/flow. */
export type RuleAction = 'alert' | 'drop' | 'reject' | 'rejectsrc' | 'rejectdst' | 'rejectboth' | 'pass';

/**
 * A set of addresses after variables, groups and negation are resolved.
 * Ranges are inclusive, sorted, non-overlapping and merged. `any` short-cuts
 * the ranges (both families match).
 */
export interface AddressSet {
  any: boolean;
  /** IPv4 as [lo0, hi0, lo1, hi1, …], unsigned 32-bit. */
  v4: Uint32Array;
  /** IPv6 as [lo0(4 words), hi0(4 words), lo1(4), hi1(4), …], big-endian word order. */
  v6: Uint32Array;
}

/** Ports after variables, groups, ranges and negation: inclusive [lo, hi] pairs, sorted, merged. */
export interface PortSet {
  any: boolean;
  ranges: Uint16Array;
}

export interface RuleHeader {
  action: RuleAction;
  /**
   * As written and lower-cased: a packet protocol (`ip`, `tcp`, `udp`,
   * `icmp`, `icmpv4`, `icmpv6`, `pkthdr`, `sctp`, `tcp-pkt`, `tcp-stream`) or
   * an app-layer protocol (`http`, `http1`, `http2`, `dns`, `tls`, `ssh`,
   * `smtp`, `ftp`, …) which also implies its transport.
   */
  proto: string;
  src: AddressSet;
  srcPorts: PortSet;
  dst: AddressSet;
  dstPorts: PortSet;
  /** `<>`: the rule also matches with source and destination swapped. */
  bidirectional: boolean;
}

/** A number, or the name of a `byte_extract`/`byte_math` variable set earlier in the same rule. */
export type NumOrVar = number | string;

/** Integer comparisons used by dsize, bsize, urilen, ttl, window, stream_size, itype, icode, … */
export interface IntCompare {
  /** `=`, `!=`, `<`, `<=`, `>`, `>=`, `<>` (exclusive range lo<v<hi, Suricata's `lo<>hi`), `-` (inclusive range lo-hi). */
  op: '=' | '!=' | '<' | '<=' | '>' | '>=' | '<>' | '-';
  value: number;
  /** Upper bound for range ops. */
  hi?: number;
}

/**
 * Names of inspection buffers. Sticky buffers use their Suricata 7 names;
 * legacy content modifiers are aliases (`http_uri` → `http.uri`,
 * `http_raw_uri` → `http.uri.raw`, `http_client_body` → `http.request_body`,
 * `http_server_body`/`file_data` → `file.data`, `dns_query` → `dns.query`,
 * `tls_sni` → `tls.sni`, `tls.subject` → `tls.cert_subject`, …).
 *
 * `pkt_data` is the default buffer: the packet payload, and for TCP rules also
 * the reassembled stream (Suricata inspects both unless `flow:only_stream` /
 * `flow:no_stream` narrow it).
 */
export type BufferName =
  | 'pkt_data'
  | 'http.uri'
  | 'http.uri.raw'
  | 'http.method'
  | 'http.protocol'
  | 'http.request_line'
  | 'http.header'
  | 'http.header.raw'
  | 'http.header_names'
  | 'http.request_header'
  | 'http.response_header'
  | 'http.host'
  | 'http.host.raw'
  | 'http.user_agent'
  | 'http.cookie'
  | 'http.referer'
  | 'http.content_type'
  | 'http.content_len'
  | 'http.accept'
  | 'http.accept_enc'
  | 'http.accept_lang'
  | 'http.connection'
  | 'http.request_body'
  | 'http.start'
  | 'http.stat_code'
  | 'http.stat_msg'
  | 'http.response_line'
  | 'http.server'
  | 'http.location'
  | 'file.data'
  | 'file.name'
  | 'dns.query'
  | 'tls.sni'
  | 'tls.cert_subject'
  | 'tls.cert_issuer'
  | 'tls.cert_serial'
  | 'tls.cert_fingerprint'
  | 'tls.certs'
  | 'ja3.hash'
  | 'ja3.string'
  | 'ja3s.hash'
  | 'ja3s.string'
  | 'ja4.hash'
  | 'ssh.proto'
  | 'ssh.software'
  | 'ssh.hassh'
  | 'ssh.hassh.string'
  | 'ssh.hassh.server'
  | 'ssh.hassh.server.string'
  // packet header buffers (the header bytes of one layer of the packet)
  | 'ipv4.hdr'
  | 'ipv6.hdr'
  | 'tcp.hdr'
  | 'udp.hdr'
  | 'icmpv4.hdr'
  | 'icmpv6.hdr'
  // the packet's addresses as raw bytes (4 for IPv4, 16 for IPv6), e.g. for datasets of type ip/ipv4
  | 'ip.src'
  | 'ip.dst'
  | 'base64_data';

/** `content` with its modifiers. Patterns are bytes (|hex| decoded, escapes resolved). */
export interface ContentOp {
  kind: 'content';
  bytes: Uint8Array;
  nocase: boolean;
  negated: boolean;
  /** Absolute modifiers (offset/depth), or relative ones (distance/within) against the previous match in the same buffer. */
  offset: NumOrVar | null;
  depth: NumOrVar | null;
  distance: NumOrVar | null;
  within: NumOrVar | null;
  startsWith: boolean;
  endsWith: boolean;
  /** `fast_pattern` was given on this content (front end sets it on exactly one content per rule when the rule names one). */
  fastPattern: boolean;
  /** `fast_pattern:only` (legacy; Suricata 7 treats it as plain fast_pattern). */
  fastPatternOnly: boolean;
  /** `fast_pattern:<offset>,<length>`: use this slice of `bytes` in the prefilter. */
  fastPatternChop: [number, number] | null;
  /** `rawbytes` (ignored for non-packet buffers). */
  rawbytes: boolean;
}

/**
 * `pcre:"/…/flags"`. The front end translates the pattern for JavaScript
 * (`(?P<name>` → `(?<name>`, possessive quantifiers and atomic groups where
 * a rewrite is safe) and maps Suricata's buffer modifiers (/U /I /H /D /M /C
 * /S /Y /B /P /Q /V /W /Z /O …) to the op's buffer; the engine compiles it.
 */
export interface PcreOp {
  kind: 'pcre';
  /** JavaScript source of the pattern (already translated). */
  source: string;
  /** JavaScript flags derived from i, s, m, x (x handled by stripping whitespace/comments in the front end). */
  jsFlags: string;
  negated: boolean;
  /** `R`: match after the previous match in the buffer. */
  relative: boolean;
  /** `A`: anchored at the start of the inspected region. `E`: `$` only at the very end. `G`: ungreedy (front end rewrote quantifiers). */
  anchored: boolean;
  /** Original text, for messages. */
  raw: string;
  /** `O`: override the match limits (ignored: JS has no PCRE limits; the engine bounds time itself). */
  overrideLimits: boolean;
  /** Named captures stored as flow/packet variables (`(?P<pkt_name>…)`, `(?P<flow_name>…)`): capture name → variable name. */
  captures: Record<string, string>;
}

export type Endian = 'big' | 'little' | 'dce';
export type NumString = 'hex' | 'dec' | 'oct' | null;

export interface ByteTestOp {
  kind: 'byte_test';
  /**
   * 1..8 (1..23 with `string`); 0 only with `string`: the rest of the buffer from `offset` (front end note).
   * A byte_extract/byte_math variable name is checked against these limits when matching.
   */
  nbytes: NumOrVar;
  /** `<`, `>`, `=`, `<=`, `>=`, `&`, `^`; `negated` for a leading `!`. */
  operator: '<' | '>' | '=' | '<=' | '>=' | '&' | '^';
  negated: boolean;
  value: NumOrVar;
  offset: NumOrVar;
  relative: boolean;
  endian: Endian;
  string: NumString;
  bitmask: number | null;
}

export interface ByteJumpOp {
  kind: 'byte_jump';
  nbytes: number;
  offset: NumOrVar;
  relative: boolean;
  multiplier: number;
  endian: Endian;
  string: NumString;
  align: boolean;
  fromBeginning: boolean;
  fromEnd: boolean;
  postOffset: number;
  bitmask: number | null;
}

export interface ByteExtractOp {
  kind: 'byte_extract';
  nbytes: number;
  offset: number;
  name: string;
  relative: boolean;
  multiplier: number;
  endian: Endian;
  string: NumString;
  align: number;
  bitmask: number | null;
}

export interface ByteMathOp {
  kind: 'byte_math';
  /** 1..4 (1..10 with `string`), or a byte_extract variable checked against those limits when matching. */
  nbytes: NumOrVar;
  offset: NumOrVar;
  oper: '+' | '-' | '*' | '/' | '<<' | '>>';
  rvalue: NumOrVar;
  result: string;
  relative: boolean;
  endian: Endian;
  string: NumString;
  bitmask: number | null;
}

/** `isdataat:[!]<n>[,relative][,rawbytes]`. */
export interface IsDataAtOp {
  kind: 'isdataat';
  offset: NumOrVar;
  relative: boolean;
  negated: boolean;
}

/** `bsize` (and `urilen` on http.uri/http.uri.raw): length of the whole buffer. */
export interface BsizeOp {
  kind: 'bsize';
  cmp: IntCompare;
}

/** `base64_decode:[bytes <n>][, offset <n>][, relative]`; followed by `base64_data` ops in the `base64_data` buffer. */
export interface Base64DecodeOp {
  kind: 'base64_decode';
  bytes: number | null;
  offset: number;
  relative: boolean;
}

/** `dataset:<cmd>,<name>[, type <t>, load <file>, state <file>, memcap …]` on the current buffer. */
export interface DatasetOp {
  kind: 'dataset';
  cmd: 'set' | 'isset' | 'isnotset' | 'unset';
  name: string;
  type: 'string' | 'md5' | 'sha256' | 'ipv4' | 'ipv6' | 'ip';
  /** Absolute path of the file to load (resolved against the rule file's folder), or null. */
  load: string | null;
  state: string | null;
}

/** Everything that runs on one buffer, in rule order. */
export type BufferOp = ContentOp | PcreOp | ByteTestOp | ByteJumpOp | ByteExtractOp | ByteMathOp | IsDataAtOp | BsizeOp | Base64DecodeOp | DatasetOp;

/**
 * Transforms (`dotprefix`, `strip_whitespace`, …) written after a sticky
 * buffer: they rewrite the buffer's bytes before its ops run. A program with
 * transforms is a different buffer from the same name without them.
 * (Added by the rule front end.)
 */
export type TransformName =
  | 'dotprefix'
  | 'strip_whitespace'
  | 'compress_whitespace'
  | 'to_lowercase'
  | 'to_uppercase'
  | 'to_md5'
  | 'to_sha1'
  | 'to_sha256'
  | 'url_decode'
  | 'header_lowercase'
  | 'strip_pseudo_headers'
  /** `pcrexform:"re"`: the buffer becomes the first capture of `re` (unchanged when it does not match). */
  | `pcrexform:${string}`;

export interface BufferProgram {
  buffer: BufferName;
  ops: BufferOp[];
  /** Transforms applied to the buffer, in order, before `ops` run; absent or empty: none. */
  transforms?: TransformName[];
}

/** Checks on packet header fields and other per-packet/per-flow facts (no buffer). */
export type PacketCheck =
  | { kind: 'dsize'; cmp: IntCompare }
  | { kind: 'ttl'; cmp: IntCompare }
  | { kind: 'tos'; cmp: IntCompare; negated: boolean }
  | { kind: 'id'; value: number }
  | { kind: 'ip_proto'; cmp: IntCompare }
  | { kind: 'window'; value: number; negated: boolean }
  | { kind: 'seq'; value: number }
  | { kind: 'ack'; value: number }
  /** `flags`/`tcp.flags`: `mask` bits that must be set per `mode`; `ignore` bits are masked out first. Modes: exact (default), `+` all-plus-any, `*` any, `!` not. */
  | { kind: 'flags'; bits: number; mode: 'exact' | '+' | '*' | '!'; ignore: number }
  | { kind: 'itype'; cmp: IntCompare }
  | { kind: 'icode'; cmp: IntCompare }
  | { kind: 'icmp_id'; value: number }
  | { kind: 'icmp_seq'; value: number }
  | { kind: 'sameip' }
  /** `ipopts:<name>`: one IPv4 option present (`rr`, `eol`, `nop`, `ts`, `sec`, `esec`, `lsrr`, `ssrr`, `satid`, `any`). */
  | { kind: 'ipopts'; option: string }
  /** `fragbits:[+*!]<MDR>`: M more-fragments, D don't-fragment, R reserved. */
  | { kind: 'fragbits'; bits: number; mode: 'exact' | '+' | '*' | '!' }
  | { kind: 'fragoffset'; cmp: IntCompare; negated: boolean }
  | { kind: 'stream_size'; side: 'client' | 'server' | 'both' | 'either'; cmp: IntCompare }
  /** `app-layer-protocol:[!]<name>` (`failed`, `unknown` included). */
  | { kind: 'app_layer_protocol'; proto: string; negated: boolean }
  | { kind: 'dns_opcode'; value: number; negated: boolean }
  /** `tls.version:1.2` etc. as the record version number (0x0303), or `tls.version:1.3`. */
  | { kind: 'tls_version'; value: number }
  /** `ssl_version:sslv3,tls1.0,…` (set of allowed versions, `!` per item allowed). */
  | { kind: 'ssl_version'; versions: number[]; negated: number[] }
  /** `ssl_state:client_hello|server_hello|…`. */
  | { kind: 'ssl_state'; states: string[]; negated: string[] }
  | { kind: 'tls_cert_expired' }
  | { kind: 'tls_cert_valid' }
  | { kind: 'tls_store' }
  /** `tls.cert_chain_len:[op]n`: number of certificates in the server's chain. */
  | { kind: 'tls_cert_chain_len'; cmp: IntCompare }
  | { kind: 'icmpv6_mtu'; cmp: IntCompare }
  /** `app-layer-event:[!]<proto>.<event>` (e.g. `http.request_field_too_long`): the flow/transaction has raised that app-layer event. (Added by the rule front end.) */
  | { kind: 'app_layer_event'; event: string; negated: boolean }
  /** `decode-event:<layer>.<event>` (e.g. `ipv4.pkt_too_small`, Suricata's `decoder.` prefix omitted): the decoder flagged this packet. (Added by the rule front end.) */
  | { kind: 'decode_event'; event: string }
  /** `stream-event:<event>` (e.g. `3whs_synack_in_wrong_direction`, Suricata's `stream.` prefix omitted): the TCP stream engine flagged this packet. (Added by the rule front end.) */
  | { kind: 'stream_event'; event: string }
  /** A keyword the engine does not evaluate but which does not change what the rule matches (logged once). */
  | { kind: 'ignored'; keyword: string };

/** `flow:` options. */
export interface FlowOptions {
  established: boolean;
  notEstablished: boolean;
  stateless: boolean;
  toServer: boolean;
  toClient: boolean;
  onlyStream: boolean;
  noStream: boolean;
  onlyFrag: boolean;
  noFrag: boolean;
}

export interface FlowbitsOp {
  cmd: 'set' | 'unset' | 'toggle' | 'isset' | 'isnotset' | 'noalert';
  /** One name, or several joined by `|` (any) or `&` (all) for isset/isnotset. */
  names: string[];
  join: '|' | '&';
}

export interface FlowintOp {
  name: string;
  /** `=` set, `+`/`-` add/sub, comparisons, `isset`/`notset`/`isnotset`. */
  op: '=' | '+' | '-' | '==' | '!=' | '<' | '<=' | '>' | '>=' | 'isset' | 'notset' | 'isnotset';
  value: NumOrVar | null;
}

/** `xbits:<cmd>,<name>,track <ip_src|ip_dst|ip_pair>[,expire <s>]`. */
export interface XbitsOp {
  cmd: 'set' | 'unset' | 'toggle' | 'isset' | 'isnotset' | 'noalert';
  name: string;
  track: 'ip_src' | 'ip_dst' | 'ip_pair';
  expire: number | null;
}

export interface ThresholdSpec {
  type: 'limit' | 'threshold' | 'both' | 'backoff';
  track: 'by_src' | 'by_dst' | 'by_rule' | 'by_both' | 'by_flow';
  count: number;
  seconds: number;
  /** backoff: multiplier. */
  multiplier?: number;
}

export interface DetectionFilterSpec {
  track: 'by_src' | 'by_dst' | 'by_rule' | 'by_both' | 'by_flow';
  count: number;
  seconds: number;
}

/** `tag:session|host, <count>, <packets|bytes|seconds>[, src|dst]`. */
export interface TagSpec {
  type: 'session' | 'host';
  count: number;
  metric: 'packets' | 'bytes' | 'seconds';
  direction: 'src' | 'dst' | null;
}

export interface RuleMeta {
  gid: number;
  sid: number;
  rev: number;
  msg: string;
  classtype: string | null;
  /** From `priority`, else the classtype's, else 3. */
  priority: number;
  /** Category text of the classtype (classification.config), or ''. */
  category: string;
  references: { system: string; id: string }[];
  /** `metadata: key value, key value` as key → values (Suricata's EVE shape). */
  metadata: Record<string, string[]>;
  /** `target:src_ip|dest_ip`. */
  target: 'src_ip' | 'dest_ip' | null;
}

/** One rule ready for the engine. */
export interface Rule {
  header: RuleHeader;
  meta: RuleMeta;
  flow: FlowOptions | null;
  /** Buffers and what runs on each, in order of first use in the rule. */
  buffers: BufferProgram[];
  checks: PacketCheck[];
  flowbits: FlowbitsOp[];
  flowints: FlowintOp[];
  xbits: XbitsOp[];
  threshold: ThresholdSpec | null;
  detectionFilter: DetectionFilterSpec | null;
  tag: TagSpec | null;
  /** `noalert` or `flowbits:noalert`: run for side effects only. */
  noalert: boolean;
  /** `prefilter` keyword: use this rule's marked content (or the named keyword) as its prefilter. */
  prefilter: boolean;
  /** Where it came from, for messages and `rules check`. */
  source: { file: string; line: number; text: string };
}

/** A rule the front end could not load. */
export interface RuleLoadError {
  file: string;
  line: number;
  sid: number | null;
  reason: string;
}
