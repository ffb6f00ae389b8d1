/**
 * Flow state keywords: flow (direction and state), flowbits, flowint, xbits.
 */
import type { FlowintOp, FlowOptions, XbitsOp } from '../rules/ast.js';
import { fail } from '../rules/errors.js';
import { clip } from '../rules/lexer.js';
import type { KeywordDecl } from './types.js';
import { commaList, expectValue, numOrVar, uint } from './types.js';

export const flow: KeywordDecl = {
  name: 'flow',
  value: 'required',
  doc: '`established|not_established|stateless, to_server|from_client|to_client|from_server, only_stream|no_stream, only_frag|no_frag`',
  parse(v, b) {
    if (b.flow !== null) fail('flow given twice');
    const f: FlowOptions = {
      established: false,
      notEstablished: false,
      stateless: false,
      toServer: false,
      toClient: false,
      onlyStream: false,
      noStream: false,
      onlyFrag: false,
      noFrag: false,
    };
    for (const o of commaList(expectValue(v, 'flow'))) {
      switch (o) {
        case 'established':
          f.established = true;
          break;
        case 'not_established':
          f.notEstablished = true;
          break;
        case 'stateless':
          f.stateless = true;
          break;
        case 'to_server':
        case 'from_client':
          f.toServer = true;
          break;
        case 'to_client':
        case 'from_server':
          f.toClient = true;
          break;
        case 'only_stream':
          f.onlyStream = true;
          break;
        case 'no_stream':
          f.noStream = true;
          break;
        case 'only_frag':
          f.onlyFrag = true;
          break;
        case 'no_frag':
          f.noFrag = true;
          break;
        default:
          fail(`flow: unknown option "${clip(o)}"`);
      }
    }
    if (f.toServer && f.toClient) fail('flow: to_server and to_client together can never match');
    if (f.established && f.notEstablished) fail('flow: established and not_established together can never match');
    if (f.onlyStream && f.noStream) fail('flow: only_stream and no_stream are exclusive');
    if (f.onlyFrag && f.noFrag) fail('flow: only_frag and no_frag are exclusive');
    b.flow = f;
  },
};

const BIT_NAME = /^[A-Za-z0-9_.\-:/]+$/;

export const flowbits: KeywordDecl = {
  name: 'flowbits',
  value: 'required',
  doc: '`set|unset|toggle|isset|isnotset,<name>` (names joined by `|` or `&` for isset/isnotset), or `noalert`',
  parse(v, b) {
    const t = expectValue(v, 'flowbits');
    const comma = t.indexOf(',');
    const cmd = (comma < 0 ? t : t.slice(0, comma)).trim();
    const arg = comma < 0 ? '' : t.slice(comma + 1).trim();
    if (cmd === 'noalert') {
      if (arg !== '') fail('flowbits:noalert takes no name');
      b.noalert = true;
      b.flowbits.push({ cmd: 'noalert', names: [], join: '|' });
      return;
    }
    if (cmd !== 'set' && cmd !== 'unset' && cmd !== 'toggle' && cmd !== 'isset' && cmd !== 'isnotset') fail(`flowbits: unknown command "${clip(cmd)}"`);
    if (arg === '') fail(`flowbits:${cmd} needs a name`);
    const hasOr = arg.includes('|');
    const hasAnd = arg.includes('&');
    if (hasOr && hasAnd) fail('flowbits: cannot mix "|" and "&"');
    if ((hasOr || hasAnd) && (cmd === 'toggle' || (hasOr && (cmd === 'set' || cmd === 'unset')))) fail(`flowbits:${cmd} cannot take a "|" list`);
    const names = arg.split(hasOr ? '|' : '&').map((x) => x.trim());
    for (const nm of names) if (!BIT_NAME.test(nm)) fail(`flowbits: "${clip(nm)}" is not a valid name`);
    b.flowbits.push({ cmd, names, join: hasAnd ? '&' : '|' });
  },
};

const FLOWINT_OPS = new Set(['=', '+', '-', '==', '!=', '<', '<=', '>', '>=', 'isset', 'notset', 'isnotset']);

export const flowint: KeywordDecl = {
  name: 'flowint',
  value: 'required',
  doc: '`name, op[, value]` with op one of = + - == != < <= > >= isset notset isnotset',
  parse(v, b) {
    const parts = commaList(expectValue(v, 'flowint'));
    if (parts.length < 2 || parts.length > 3) fail('flowint needs name, operator[, value]');
    const [name, op, value] = parts as [string, string, string | undefined];
    if (!BIT_NAME.test(name)) fail(`flowint: "${clip(name)}" is not a valid name`);
    if (!FLOWINT_OPS.has(op)) fail(`flowint: unknown operator "${clip(op)}"`);
    const unary = op === 'isset' || op === 'notset' || op === 'isnotset';
    if (unary && value !== undefined) fail(`flowint: ${op} takes no value`);
    if (!unary && value === undefined) fail(`flowint: ${op} needs a value`);
    b.flowints.push({ name, op: op as FlowintOp['op'], value: value === undefined ? null : numOrVar(value, 'flowint value') });
  },
};

export const xbits: KeywordDecl = {
  name: 'xbits',
  value: 'required',
  doc: '`set|unset|toggle|isset|isnotset|noalert,<name>,track ip_src|ip_dst|ip_pair[,expire <s>]`',
  parse(v, b) {
    const parts = commaList(expectValue(v, 'xbits'));
    const cmd = parts[0]!;
    if (!['set', 'unset', 'toggle', 'isset', 'isnotset', 'noalert'].includes(cmd)) fail(`xbits: unknown command "${clip(cmd)}"`);
    if (cmd === 'noalert') {
      b.noalert = true;
      return;
    }
    const name = parts[1];
    if (name === undefined || !BIT_NAME.test(name)) fail('xbits needs a valid name');
    let track: XbitsOp['track'] | null = null;
    let expire: number | null = null;
    for (const o of parts.slice(2)) {
      let m: RegExpExecArray | null;
      if ((m = /^track\s+(ip_src|ip_dst|ip_pair|tx)$/.exec(o)) !== null) {
        if (m[1] === 'tx') fail('xbits: track tx is not supported');
        track = m[1] as XbitsOp['track'];
      } else if ((m = /^expire\s+(\S+)$/.exec(o)) !== null) expire = uint(m[1]!, 'xbits expire', 1);
      else fail(`xbits: unknown option "${clip(o)}"`);
    }
    if (track === null) fail('xbits needs "track ip_src|ip_dst|ip_pair"');
    b.xbits.push({ cmd: cmd as XbitsOp['cmd'], name, track, expire });
  },
};

export const FLOW_KEYWORDS: readonly KeywordDecl[] = [flow, flowbits, flowint, xbits];
