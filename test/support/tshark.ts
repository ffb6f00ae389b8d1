/**
 * tshark as an oracle: running it, and parsing what it prints.
 *
 * The conformance tests compare Harrier with Wireshark's dissectors. One
 * tshark process costs about 0.5 s of start-up, so per-file runs over the
 * ~4,700 captures of ../shared/data/pcaps would take most of an hour. Instead
 * captures are concatenated into a few pcapng files with `mergecap -a` (each
 * input keeps its own interface, so every link type survives) and ONE
 * `tshark -T fields` run per merged file prints what `-z conv,tcp` /
 * `-z conv,udp` group by; `rebuildConversations` regroups those rows per
 * original file. `parseConvOutput` reads the real `-z conv` tables so a test
 * can prove that reconstruction faithful on a sample of files.
 *
 * Everything here that parses is a pure function over text, unit-tested on
 * hand-made inputs in test/sensor/tshark-parse.test.ts.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, unlinkSync } from 'node:fs';

// ---------------------------------------------------------------------------
// Running the programs

/** Fields printed per frame for the conversation reconstruction (order matters: see parseFrameRow). */
export const FRAME_FIELDS = [
  'frame.number',
  'frame.len',
  'frame.cap_len',
  'frame.time_epoch',
  'frame.protocols',
  'ip.src',
  'ip.dst',
  'ipv6.src',
  'ipv6.dst',
  'tcp.srcport',
  'tcp.dstport',
  'tcp.stream',
  'udp.srcport',
  'udp.dstport',
  'udp.stream',
  'tcp.flags',
  'vlan.id',
  'tcp.hdr_len',
] as const;

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a program synchronously (tshark prints its root warning on stderr; callers ignore it). */
export function run(cmd: string, args: string[], timeoutMs = 120_000): RunResult {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 30, timeout: timeoutMs });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** Runs a program without blocking the event loop; resolves with its whole output. */
export function runAsync(cmd: string, args: string[]): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => out.push(d));
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (d: string) => {
      if (stderr.length < 65536) stderr += d;
    });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout: Buffer.concat(out).toString('utf8'), stderr }));
  });
}

/**
 * Runs a program in the background with its standard output going to a file
 * (so a synchronous test body may block the event loop meanwhile).
 */
export function runToFile(cmd: string, args: string[], outFile: string): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const fd = openSync(outFile, 'w');
    const child = spawn(cmd, args, { stdio: ['ignore', fd, 'pipe'] });
    let stderr = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (d: string) => {
      if (stderr.length < 65536) stderr += d;
    });
    child.on('error', (e) => {
      closeSync(fd);
      reject(e);
    });
    child.on('close', (status) => {
      closeSync(fd);
      resolve({ status, stderr });
    });
  });
}

/** `tshark -r file -T fields …` arguments for FRAME_FIELDS. */
export function frameFieldArgs(file: string): string[] {
  const a = ['-r', file, '-n', '-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=a', '-E', 'aggregator=,'];
  for (const f of FRAME_FIELDS) a.push('-e', f);
  return a;
}

/**
 * Concatenates captures with `mergecap -a -F pcapng`. mergecap gives up on
 * the whole merge when one input is cut short mid-record; such inputs are
 * taken out (named in `dropped`) and the merge retried, so the caller can
 * run tshark on them one by one.
 */
export async function mergeCaptures(files: string[], out: string): Promise<{ merged: string[]; dropped: string[] }> {
  let merged = files.slice();
  const dropped: string[] = [];
  for (let attempt = 0; attempt < 50 && merged.length > 0; attempt++) {
    const r = await runToFile('mergecap', ['-a', '-F', 'pcapng', '-w', out, ...merged], '/dev/null');
    if (r.status === 0) return { merged, dropped };
    const m = /The file "([^"]+)"/.exec(r.stderr);
    if (m === null || !merged.includes(m[1])) throw new Error(`mergecap failed: ${r.stderr.trim().split('\n')[0]}`);
    dropped.push(m[1]);
    merged = merged.filter((f) => f !== m[1]);
  }
  if (merged.length === 0) {
    try {
      unlinkSync(out);
    } catch {
      /* nothing written */
    }
    return { merged, dropped };
  }
  throw new Error('mergecap: too many unreadable inputs');
}

/** Runs `tshark -T fields` (FRAME_FIELDS) on a capture into outFile; resolves to the rows. */
export async function tsharkFrameRows(capture: string, outFile: string): Promise<string[]> {
  const r = await runToFile('tshark', frameFieldArgs(capture), outFile);
  // tshark exits 2 after reading a capture cut short, having printed every complete frame.
  if (r.status !== 0 && r.status !== 2) throw new Error(`tshark failed on ${capture}: ${r.stderr.trim().split('\n').pop() ?? ''}`);
  const text = readFileSync(outFile, 'utf8');
  const rows = text.split('\n');
  if (rows.length > 0 && rows[rows.length - 1] === '') rows.pop();
  return rows;
}

/**
 * Runs `tshark -T fields` with the given fields into outFile; resolves to the
 * rows. Repeated values are joined with `aggregator` (the transaction test
 * uses U+001F, since user agents and URIs contain commas).
 */
export async function tsharkFieldRows(capture: string, fields: readonly string[], outFile: string, aggregator = ','): Promise<string[]> {
  const a = ['-r', capture, '-n', '-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=a', '-E', `aggregator=${aggregator}`];
  for (const f of fields) a.push('-e', f);
  const r = await runToFile('tshark', a, outFile);
  if (r.status !== 0 && r.status !== 2) throw new Error(`tshark failed on ${capture}: ${r.stderr.trim().split('\n').pop() ?? ''}`);
  const rows = readFileSync(outFile, 'utf8').split('\n');
  if (rows.length > 0 && rows[rows.length - 1] === '') rows.pop();
  return rows;
}

/**
 * Records per capture by `capinfos -T -r -c -M` (one process for many
 * files): how rows of a merged file are split back into its inputs.
 */
export function captureRecordCounts(files: string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (let i = 0; i < files.length; i += 500) {
    const r = run('capinfos', ['-T', '-r', '-c', '-M', ...files.slice(i, i + 500)]);
    for (const line of r.stdout.split('\n')) {
      const t = line.lastIndexOf('\t');
      if (t > 0) out.set(line.slice(0, t), Number(line.slice(t + 1)));
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// One frame of `tshark -T fields` output

/** One TCP or UDP layer of a frame, as the conversation tap sees it. */
export interface L4Layer {
  proto: 6 | 17;
  /** tcp.stream / udp.stream: the conversation index tshark's table groups by. */
  stream: number;
  src: string;
  dst: string;
  sport: number;
  dport: number;
  /** Position among the frame's TCP/UDP layers, 0 = outermost. */
  depth: number;
  /**
   * Whether the conversation tap counts this layer. It does not for the copy
   * of a packet quoted inside an ICMP error, nor for a TCP header whose
   * length field is below 20 (tshark gives it a stream index, flags it
   * "Bogus TCP header length" and stops before the tap).
   */
  tapped: boolean;
}

export interface TsFrame {
  /** frame.number as printed (global in a merged file). */
  num: number;
  len: number;
  capLen: number;
  /** frame.time_epoch in seconds. */
  time: number;
  protocols: string;
  layers: L4Layer[];
  /** TCP flags of the outermost TCP layer (-1 none). */
  tcpFlags: number;
  /** vlan.id values, comma-joined ('' none). */
  vlan: string;
}

function list(s: string | undefined): string[] {
  return s === undefined || s === '' ? [] : s.split(',');
}

/**
 * Parses one row of FRAME_FIELDS. Fields repeat when a frame has several
 * layers of one protocol (tunnels, the copy of the offending packet inside an
 * ICMP error); the values come in layer order. `frame.protocols` gives the
 * order of all layers, so each TCP/UDP layer is paired with the IP layer just
 * above it — the outer UDP of VXLAN with the outer IP, the inner TCP with the
 * inner IP — which is how the conversation tap pairs them.
 */
export function parseFrameRow(row: string): TsFrame {
  const c = row.split('\t');
  const protocols = c[4] ?? '';
  const ip4 = { src: list(c[5]), dst: list(c[6]) };
  const ip6 = { src: list(c[7]), dst: list(c[8]) };
  const tcp = { sp: list(c[9]), dp: list(c[10]), st: list(c[11]) };
  const udp = { sp: list(c[12]), dp: list(c[13]), st: list(c[14]) };
  const tcpHdrLen = list(c[17]);
  let inError = false;
  const layers: L4Layer[] = [];
  let n4 = 0;
  let n6 = 0;
  let nt = 0;
  let nu = 0;
  let lastIp: { v: 4 | 6; i: number } | null = null;
  for (const p of protocols.split(':')) {
    if (p === 'ip') lastIp = { v: 4, i: n4++ };
    else if (p === 'ipv6') lastIp = { v: 6, i: n6++ };
    else if (p === 'icmp' || p === 'icmpv6') inError = true;
    else if (p === 'tcp' || p === 'udp') {
      const k = p === 'tcp' ? nt++ : nu++;
      const f = p === 'tcp' ? tcp : udp;
      const st = f.st[k];
      if (st === undefined || lastIp === null) continue; // no stream index: not in the table
      const ip = lastIp.v === 4 ? ip4 : ip6;
      layers.push({
        proto: p === 'tcp' ? 6 : 17,
        stream: Number(st),
        src: canonicalIp(ip.src[lastIp.i] ?? ''),
        dst: canonicalIp(ip.dst[lastIp.i] ?? ''),
        sport: Number(f.sp[k]),
        dport: Number(f.dp[k]),
        depth: layers.length,
        tapped: !inError && !(p === 'tcp' && Number(tcpHdrLen[k] ?? '20') < 20),
      });
    }
  }
  const fl = list(c[15])[0];
  return {
    num: Number(c[0]),
    len: Number(c[1]),
    capLen: Number(c[2]),
    time: Number(c[3]),
    protocols,
    layers,
    tcpFlags: fl === undefined ? -1 : parseInt(fl, 16),
    vlan: c[16] ?? '',
  };
}

// ---------------------------------------------------------------------------
// Conversations

/**
 * IPv6 text in the full form EVE uses (eight groups of four hex digits), so
 * tshark's compressed `2001:db8::1` and EVE's `2001:0db8:0000:…:0001` compare
 * equal. IPv4 text is returned as it is.
 */
export function canonicalIp(addr: string): string {
  if (!addr.includes(':')) return addr;
  let a = addr.toLowerCase();
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(a);
  if (v4 !== null) {
    const n = v4.slice(1).map(Number);
    a = a.slice(0, v4.index) + ((n[0] << 8) | n[1]).toString(16) + ':' + ((n[2] << 8) | n[3]).toString(16);
  }
  const halves = a.split('::');
  const head = halves[0] === '' ? [] : halves[0].split(':');
  const tail = halves.length > 1 && halves[1] !== '' ? halves[1].split(':') : [];
  const fill = halves.length > 1 ? 8 - head.length - tail.length : 0;
  const groups = [...head, ...Array<string>(Math.max(0, fill)).fill('0'), ...tail];
  return groups.map((g) => g.padStart(4, '0')).join(':');
}

/** `addr:port`, IPv6 in brackets and full form, the way tables and flow keys are compared. */
export function endpoint(addr: string, port: number): string {
  return addr.includes(':') ? `[${canonicalIp(addr)}]:${port}` : `${addr}:${port}`;
}

/** Protocol and the two endpoints in sorted order: equal for both directions. */
export function convKey(proto: number, a: string, b: string): string {
  return a < b ? `${proto} ${a} ${b}` : `${proto} ${b} ${a}`;
}

export interface TsConversation {
  proto: 6 | 17;
  stream: number;
  /** Endpoint A is the source of the conversation's first frame, as in tshark's table. */
  a: string;
  b: string;
  key: string;
  /** Frame indexes (0-based, within the file) in order. */
  frames: number[];
  /** Per frame of `frames`: 0 A→B, 1 B→A. */
  dirs: number[];
  framesAB: number;
  framesBA: number;
  /** Sums of frame.len, what `-z conv` shows. */
  bytesAB: number;
  bytesBA: number;
  /** Sums of frame.cap_len, what Suricata and Harrier count. */
  capAB: number;
  capBA: number;
  start: number;
  end: number;
}

/**
 * Regroups frames into tshark's conversations: one per (protocol, stream
 * index), which is what `-z conv,tcp` / `-z conv,udp` key by in Wireshark 4.
 * `frames[i]` is frame i of one capture (its own numbering, from 0).
 */
export function rebuildConversations(frames: readonly TsFrame[]): TsConversation[] {
  const byStream = new Map<string, TsConversation>();
  const out: TsConversation[] = [];
  for (let i = 0; i < frames.length; i++) {
    const fr = frames[i];
    for (const l of fr.layers) {
      if (!l.tapped) continue;
      const id = `${l.proto}/${l.stream}`;
      const s = endpoint(l.src, l.sport);
      const d = endpoint(l.dst, l.dport);
      let c = byStream.get(id);
      if (c === undefined) {
        c = {
          proto: l.proto,
          stream: l.stream,
          a: s,
          b: d,
          key: convKey(l.proto, s, d),
          frames: [],
          dirs: [],
          framesAB: 0,
          framesBA: 0,
          bytesAB: 0,
          bytesBA: 0,
          capAB: 0,
          capBA: 0,
          start: fr.time,
          end: fr.time,
        };
        byStream.set(id, c);
        out.push(c);
      }
      // A frame listed twice in one conversation (two layers with the same stream) counts once per layer, as the tap does.
      const ab = s === c.a && d === c.b ? 0 : 1;
      c.frames.push(i);
      c.dirs.push(ab);
      if (ab === 0) {
        c.framesAB++;
        c.bytesAB += fr.len;
        c.capAB += fr.capLen;
      } else {
        c.framesBA++;
        c.bytesBA += fr.len;
        c.capBA += fr.capLen;
      }
      if (fr.time > c.end) c.end = fr.time;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// `-z conv,tcp` / `-z conv,udp` tables

/** A byte figure as tshark prints it: exact below 10 kB, then rounded with a unit. */
export interface ShownBytes {
  value: number;
  unit: 'bytes' | 'kB' | 'MB' | 'GB';
}

export interface ConvTableRow {
  proto: 6 | 17;
  a: string;
  b: string;
  /** "<-" columns: B → A. */
  framesBA: number;
  bytesBA: ShownBytes;
  /** "->" columns: A → B. */
  framesAB: number;
  bytesAB: ShownBytes;
  framesTotal: number;
}

const UNIT_SCALE: Record<ShownBytes['unit'], number> = { bytes: 1, kB: 1e3, MB: 1e6, GB: 1e9 };

/** Whether an exact byte count is what tshark would print as `shown` (it rounds to the unit). */
export function bytesMatch(exact: number, shown: ShownBytes): boolean {
  if (shown.unit === 'bytes') return exact === shown.value;
  return Math.abs(exact / UNIT_SCALE[shown.unit] - shown.value) <= 1;
}

/**
 * Parses the tables of `tshark -q -z conv,tcp -z conv,udp`: rows like
 * `10.0.0.1:1234 <-> 10.0.0.2:80   7 5253 bytes   5 909 bytes   12 6162 bytes   0.000 0.13`.
 */
export function parseConvOutput(text: string): ConvTableRow[] {
  const rows: ConvTableRow[] = [];
  let proto: 6 | 17 | 0 = 0;
  const re = /^(\S+)\s+<->\s+(\S+)\s+(\d+)\s+(\d+)\s+(bytes|kB|MB|GB)\s+(\d+)\s+(\d+)\s+(bytes|kB|MB|GB)\s+(\d+)\s+(\d+)\s+(bytes|kB|MB|GB)\s/;
  for (const line of text.split('\n')) {
    if (line.startsWith('TCP Conversations')) proto = 6;
    else if (line.startsWith('UDP Conversations')) proto = 17;
    const m = re.exec(line);
    if (m === null || proto === 0) continue;
    rows.push({
      proto,
      a: m[1],
      b: m[2],
      framesBA: Number(m[3]),
      bytesBA: { value: Number(m[4]), unit: m[5] as ShownBytes['unit'] },
      framesAB: Number(m[6]),
      bytesAB: { value: Number(m[7]), unit: m[8] as ShownBytes['unit'] },
      framesTotal: Number(m[9]),
    });
  }
  return rows;
}

/** tshark prints IPv6 endpoints in the tables as `addr:port` without brackets; this is our bracketed form. */
export function tableEndpoint(s: string): string {
  const i = s.lastIndexOf(':');
  const addr = s.slice(0, i);
  return endpoint(addr, Number(s.slice(i + 1)));
}

/**
 * Compares the real table with reconstructed conversations. Returns one line
 * per disagreement (empty when they agree): a row matched by endpoints and
 * frame counts, bytes within tshark's rounding.
 */
export function diffConvTable(table: readonly ConvTableRow[], rebuilt: readonly TsConversation[]): string[] {
  const problems: string[] = [];
  const pool = new Map<string, TsConversation[]>();
  for (const c of rebuilt) {
    const k = `${c.proto} ${c.a} ${c.b}`;
    const l = pool.get(k);
    if (l === undefined) pool.set(k, [c]);
    else l.push(c);
  }
  for (const r of table) {
    const a = tableEndpoint(r.a);
    const b = tableEndpoint(r.b);
    const cands = pool.get(`${r.proto} ${a} ${b}`) ?? [];
    const i = cands.findIndex(
      (c) => c.framesAB === r.framesAB && c.framesBA === r.framesBA && bytesMatch(c.bytesAB, r.bytesAB) && bytesMatch(c.bytesBA, r.bytesBA),
    );
    if (i < 0) {
      const near = cands.map((c) => `${c.framesAB}/${c.bytesAB} ${c.framesBA}/${c.bytesBA}`).join('; ');
      problems.push(
        `${r.proto === 6 ? 'tcp' : 'udp'} ${a} <-> ${b}: table ${r.framesAB}/${r.bytesAB.value}${r.bytesAB.unit} ${r.framesBA}/${r.bytesBA.value}${r.bytesBA.unit}, rebuilt ${near || 'none'}`,
      );
    } else cands.splice(i, 1);
  }
  for (const [k, l] of pool) for (const c of l) problems.push(`rebuilt conversation not in the table: ${k} stream ${c.stream} (${c.framesAB}+${c.framesBA} frames)`);
  return problems;
}

// ---------------------------------------------------------------------------
// `-z follow,tcp,raw,N`

export interface FollowGap {
  /** Data bytes of that direction before the gap. */
  at: number;
  len: number;
}

export interface FollowStream {
  /** Node 0 is the endpoint that sent the stream's first data (`addr:port` as tshark prints it). */
  node0: string;
  node1: string;
  /** Bytes sent by node 0, then by node 1, concatenated in order (gap markers left out). */
  fromNode0: Buffer;
  fromNode1: Buffer;
  /**
   * Where tshark printed `[N bytes missing in capture file]` (with a NUL)
   * instead of data: segments never captured. Per node.
   */
  gaps0: FollowGap[];
  gaps1: FollowGap[];
  /** Chunks printed (data and gap markers). */
  chunks: number;
}

const MISSING = /^\[(\d+) bytes missing in capture file\]\0?$/;

/**
 * Parses `tshark -q -z follow,tcp,raw,N`: after `Node 0:` / `Node 1:` lines,
 * one hex line per chunk, indented with a tab when node 1 sent it. A chunk
 * that is tshark's marker for a hole in the capture becomes a gap.
 */
export function parseFollowRaw(text: string): FollowStream {
  let node0 = '';
  let node1 = '';
  const parts: [Buffer[], Buffer[]] = [[], []];
  const sizes = [0, 0];
  const gaps: [FollowGap[], FollowGap[]] = [[], []];
  let chunks = 0;
  let inBody = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('Node 0: ')) {
      node0 = line.slice(8).trim();
      continue;
    }
    if (line.startsWith('Node 1: ')) {
      node1 = line.slice(8).trim();
      inBody = true;
      continue;
    }
    if (!inBody || line.startsWith('====')) continue;
    const from = line.startsWith('\t') ? 1 : 0;
    const hex = line.trim();
    if (hex === '') continue;
    if (!/^[0-9a-f]+$/i.test(hex) || hex.length % 2 !== 0) throw new Error(`follow output: unexpected line ${JSON.stringify(line.slice(0, 60))}`);
    const b = Buffer.from(hex, 'hex');
    chunks++;
    const m = b.length < 64 ? MISSING.exec(b.toString('latin1')) : null;
    if (m !== null) {
      gaps[from].push({ at: sizes[from], len: Number(m[1]) });
      continue;
    }
    parts[from].push(b);
    sizes[from] += b.length;
  }
  if (node0 === '' || node1 === '') throw new Error('follow output: no Node 0 / Node 1 lines');
  return { node0, node1, fromNode0: Buffer.concat(parts[0]), fromNode1: Buffer.concat(parts[1]), gaps0: gaps[0], gaps1: gaps[1], chunks };
}
