/**
 * Hand-built SSH sessions for the SSH tests (our own bytes, built from RFC 4253).
 */
import { createHash } from 'node:crypto';

/** An unencrypted binary packet (RFC 4253 §6) carrying `payload`, padded to a multiple of 8. */
export function sshPacket(payload: Buffer): Buffer {
  let pad = 8 - ((5 + payload.length) % 8);
  if (pad < 4) pad += 8;
  const b = Buffer.alloc(4 + 1 + payload.length + pad, 0x5a);
  b.writeUInt32BE(1 + payload.length + pad, 0);
  b[4] = pad;
  payload.copy(b, 5);
  return b;
}

export function kexinit(lists: string[]): Buffer {
  const parts: Buffer[] = [Buffer.from([20]), Buffer.alloc(16, 7)];
  for (const l of lists) {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(Buffer.byteLength(l));
    parts.push(len, Buffer.from(l));
  }
  parts.push(Buffer.from([0, 0, 0, 0, 0]));
  return sshPacket(Buffer.concat(parts));
}

export const C_LISTS = [
  'curve25519-sha256,ecdh-sha2-nistp256,ext-info-c', 'ssh-ed25519,rsa-sha2-512',
  'chacha20-poly1305@openssh.com,aes128-ctr', 'chacha20-poly1305@openssh.com,aes256-ctr',
  'umac-64-etm@openssh.com,hmac-sha2-256', 'hmac-sha2-512', 'none,zlib@openssh.com', 'none', '', '',
];
export const S_LISTS = [
  'curve25519-sha256,kex-strict-s-v00@openssh.com', 'ssh-ed25519',
  'aes128-ctr', 'aes256-gcm@openssh.com,aes128-ctr', 'hmac-sha1', 'hmac-sha2-256-etm@openssh.com', 'zlib', 'none,zlib@openssh.com', '', '',
];
export const md5 = (s: string): string => createHash('md5').update(s).digest('hex');
export const C_HASSH = `${C_LISTS[0]};${C_LISTS[2]};${C_LISTS[4]};${C_LISTS[6]}`;
export const S_HASSH = `${S_LISTS[0]};${S_LISTS[3]};${S_LISTS[5]};${S_LISTS[7]}`;

export const NEWKEYS = sshPacket(Buffer.from([21]));
export const ENCRYPTED = Buffer.from('9f00a7c3e1ffd2d2d2d20000deadbeef0102030405060708', 'hex');
export const TO_SERVER = Buffer.concat([
  Buffer.from('SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13\r\n'),
  kexinit(C_LISTS), sshPacket(Buffer.from([30, 0, 0, 0, 4, 1, 2, 3, 4])), NEWKEYS, ENCRYPTED,
]);
export const TO_CLIENT = Buffer.concat([
  Buffer.from('SSH-2.0-dropbear_2022.83\r\n'),
  sshPacket(Buffer.from([2, 0, 0, 0, 0])), // SSH_MSG_IGNORE before KEXINIT
  kexinit(S_LISTS), sshPacket(Buffer.concat([Buffer.from([31]), Buffer.alloc(300, 1)])), NEWKEYS, ENCRYPTED,
]);
export const EXPECTED = {
  client: { proto_version: '2.0', software_version: 'OpenSSH_9.6p1', hassh: { hash: md5(C_HASSH), string: C_HASSH } },
  server: { proto_version: '2.0', software_version: 'dropbear_2022.83', hassh: { hash: md5(S_HASSH), string: S_HASSH } },
};

