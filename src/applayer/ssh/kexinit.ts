/**
 * SSH_MSG_KEXINIT (RFC 4253 §7.1) and the HASSH fingerprints computed from it.
 *
 * HASSH (Salesforce, as implemented in Suricata's ssh parser) is the MD5 of
 * `kex_algorithms;encryption;mac;compression` with the client-to-server lists
 * for the client's KEXINIT (`hassh`) and the server-to-client lists for the
 * server's (`hassh_server`); Suricata logs both as `hassh.{hash,string}`.
 */
import { createHash } from 'node:crypto';
import { bytesToText } from '../dns/text.js';

export const SSH_MSG_KEXINIT = 20;
export const SSH_MSG_NEWKEYS = 21;

export interface SshKexInit {
  readonly cookie: Buffer;
  readonly kexAlgorithms: string;
  readonly serverHostKeyAlgorithms: string;
  readonly encryptionC2s: string;
  readonly encryptionS2c: string;
  readonly macC2s: string;
  readonly macS2c: string;
  readonly compressionC2s: string;
  readonly compressionS2c: string;
  readonly languagesC2s: string;
  readonly languagesS2c: string;
  readonly firstKexPacketFollows: boolean;
  /** The ten name-lists as raw bytes (HASSH hashes bytes, not their text form). */
  readonly rawLists: readonly Buffer[];
}

/**
 * Parse a KEXINIT payload that starts at buf[off] with the message code and
 * ends at `end` (padding may follow the fields). Null when malformed.
 */
export function parseKexInit(buf: Buffer, off: number, end: number): SshKexInit | null {
  if (off + 17 > end || buf[off] !== SSH_MSG_KEXINIT) return null;
  const cookie = Buffer.from(buf.subarray(off + 1, off + 17));
  let p = off + 17;
  const lists: string[] = [];
  const rawLists: Buffer[] = [];
  for (let i = 0; i < 10; i++) {
    if (p + 4 > end) return null;
    const len = buf.readUInt32BE(p);
    if (len > end - p - 4) return null;
    lists.push(bytesToText(buf, p + 4, p + 4 + len));
    rawLists.push(Buffer.from(buf.subarray(p + 4, p + 4 + len)));
    p += 4 + len;
  }
  if (p + 5 > end) return null;
  return {
    cookie,
    kexAlgorithms: lists[0],
    serverHostKeyAlgorithms: lists[1],
    encryptionC2s: lists[2],
    encryptionS2c: lists[3],
    macC2s: lists[4],
    macS2c: lists[5],
    compressionC2s: lists[6],
    compressionS2c: lists[7],
    languagesC2s: lists[8],
    languagesS2c: lists[9],
    firstKexPacketFollows: buf[p] !== 0,
    rawLists,
  };
}

export interface Hassh {
  readonly hash: string;
  readonly string: string;
}

/** HASSH of a client KEXINIT (`fromServer` false) or HASSH-server of a server one. */
export function hassh(k: SshKexInit, fromServer: boolean): Hassh {
  const r = k.rawLists;
  const semi = Buffer.from(';');
  const bytes = fromServer
    ? Buffer.concat([r[0], semi, r[3], semi, r[5], semi, r[7]])
    : Buffer.concat([r[0], semi, r[2], semi, r[4], semi, r[6]]);
  return { hash: createHash('md5').update(bytes).digest('hex'), string: bytesToText(bytes, 0, bytes.length) };
}
