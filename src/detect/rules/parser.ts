/**
 * One rule's text → Rule: header (action, protocol, addresses, ports,
 * direction) resolved against the variables, then every option handed to
 * its keyword declaration, then validation.
 */
import { keywordTable } from '../keywords/registry.js';
import type { Rule, RuleAction, RuleHeader } from './ast.js';
import { resolveAddress, resolvePorts } from './address.js';
import type { RuleParseContext } from './builder.js';
import { RuleBuilder } from './builder.js';
import { fail, RuleParseError } from './errors.js';
import { clip, splitRule } from './lexer.js';

/** Keywords whose values may legitimately be long (patterns, text). */
const LONG_VALUES = new Set(['content', 'uricontent', 'pcre', 'msg', 'metadata', 'reference', 'tls.subject', 'tls.issuerdn']);

const ACTIONS = new Set<RuleAction>(['alert', 'drop', 'reject', 'rejectsrc', 'rejectdst', 'rejectboth', 'pass']);

/** Protocols accepted in the header: packet protocols and app-layer protocols Suricata 7 knows. */
export const HEADER_PROTOCOLS: ReadonlySet<string> = new Set([
  'ip', 'ipv4', 'ipv6', 'tcp', 'udp', 'icmp', 'icmpv4', 'icmpv6', 'pkthdr', 'sctp', 'tcp-pkt', 'tcp-stream',
  'http', 'http1', 'http2', 'dns', 'tls', 'ssh', 'smtp', 'ftp', 'ftp-data', 'smb', 'dcerpc', 'nfs', 'krb5', 'dhcp', 'snmp',
  'sip', 'rdp', 'mqtt', 'modbus', 'dnp3', 'enip', 'ike', 'ikev2', 'ntp', 'tftp', 'quic', 'rfb', 'pgsql', 'telnet',
  'websocket', 'ldap', 'bittorrent-dht', 'imap', 'pop3', 'irc', 'template', 'doh2',
]);

function parseHeader(words: string[], ctx: RuleParseContext): RuleHeader {
  if (words.length !== 7) fail(`rule header needs 7 fields (action proto src sport -> dst dport), got ${words.length}`);
  const [action, protoRaw, src, sp, dir, dst, dp] = words as [string, string, string, string, string, string, string];
  const act = action.toLowerCase() as RuleAction;
  if (!ACTIONS.has(act)) fail(`unknown action "${clip(action)}"`);
  const proto = protoRaw.toLowerCase();
  if (!HEADER_PROTOCOLS.has(proto)) fail(`unknown protocol "${clip(protoRaw)}"`);
  if (dir !== '->' && dir !== '<>') fail(`direction must be "->" or "<>", got "${clip(dir)}"`);
  return {
    action: act,
    proto,
    src: resolveAddress(src, ctx.vars),
    srcPorts: resolvePorts(sp, ctx.vars),
    dst: resolveAddress(dst, ctx.vars),
    dstPorts: resolvePorts(dp, ctx.vars),
    bidirectional: dir === '<>',
  };
}

/**
 * Parses one rule. Throws RuleParseError whose message is the reason; never
 * anything else for bad input (an unexpected exception is wrapped so that
 * one hostile rule cannot stop a load).
 */
export function parseRule(text: string, ctx: RuleParseContext): Rule {
  try {
    return parseRuleInner(text, ctx);
  } catch (e) {
    if (e instanceof RuleParseError) throw e;
    throw new RuleParseError(`internal error while parsing: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function parseRuleInner(text: string, ctx: RuleParseContext): Rule {
  const parts = splitRule(text.trim());
  const header = parseHeader(parts.header, ctx);
  const b = new RuleBuilder(ctx, header);
  const table = keywordTable();
  for (const { key, value } of parts.options) {
    const name = key.toLowerCase();
    const decl = table.get(name);
    if (decl === undefined) fail(`unsupported keyword "${clip(key, 40)}"`);
    if (decl.value === 'none' && value !== null && value !== '') fail(`${name} takes no value`);
    if (decl.value === 'required' && (value === null || value === '')) fail(`${name} needs a value`);
    // Only a few keywords carry long text; capping the others keeps every
    // value regex linear-time in practice on hostile input.
    if (value !== null && value.length > 4096 && !LONG_VALUES.has(decl.name)) fail(`${name}: value is too long (${value.length} characters)`);
    decl.parse(value, b, name);
  }
  return b.finish({ file: ctx.file ?? '', line: ctx.line ?? 0, text });
}
