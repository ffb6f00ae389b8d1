/**
 * Builders for hand-made TLS messages (tests only): records, handshake
 * messages, ClientHello/ServerHello with chosen extensions, Certificate.
 */

export function u8(n: number): Buffer { return Buffer.from([n & 0xff]); }
export function u16(n: number): Buffer { return Buffer.from([(n >> 8) & 0xff, n & 0xff]); }
export function u24(n: number): Buffer { return Buffer.from([(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]); }
export function u16list(vals: readonly number[]): Buffer { return Buffer.concat(vals.map(u16)); }
/** A vector with a 1-, 2- or 3-byte length prefix. */
export function vec(lenBytes: 1 | 2 | 3, body: Buffer): Buffer {
  const l = lenBytes === 1 ? u8(body.length) : lenBytes === 2 ? u16(body.length) : u24(body.length);
  return Buffer.concat([l, body]);
}

export interface Ext { type: number; data: Buffer }
export const ext = (type: number, data: Buffer = Buffer.alloc(0)): Ext => ({ type, data });
export const sniExt = (host: string): Ext =>
  ext(0x0000, vec(2, Buffer.concat([u8(0), vec(2, Buffer.from(host, 'latin1'))])));
export const alpnExt = (names: readonly (string | Buffer)[]): Ext =>
  ext(0x0010, vec(2, Buffer.concat(names.map((n) => vec(1, typeof n === 'string' ? Buffer.from(n, 'latin1') : n)))));
export const groupsExt = (g: readonly number[]): Ext => ext(0x000a, vec(2, u16list(g)));
export const pointFormatsExt = (p: readonly number[]): Ext => ext(0x000b, vec(1, Buffer.from(p)));
export const sigAlgsExt = (s: readonly number[]): Ext => ext(0x000d, vec(2, u16list(s)));
export const clientVersionsExt = (v: readonly number[]): Ext => ext(0x002b, vec(1, u16list(v)));
export const serverVersionExt = (v: number): Ext => ext(0x002b, u16(v));
export const keyShareClientExt = (groups: readonly number[]): Ext =>
  ext(0x0033, vec(2, Buffer.concat(groups.map((g) => Buffer.concat([u16(g), vec(2, Buffer.alloc(32, 7))])))));

function extBlock(exts: readonly Ext[] | null): Buffer {
  if (exts === null) return Buffer.alloc(0);
  return vec(2, Buffer.concat(exts.map((e) => Buffer.concat([u16(e.type), vec(2, e.data)]))));
}

export function clientHelloBody(o: {
  version?: number; sessionId?: Buffer; ciphers: readonly number[]; compression?: readonly number[]; exts: readonly Ext[] | null;
}): Buffer {
  return Buffer.concat([
    u16(o.version ?? 0x0303),
    Buffer.alloc(32, 0x11),
    vec(1, o.sessionId ?? Buffer.alloc(0)),
    vec(2, u16list(o.ciphers)),
    vec(1, Buffer.from(o.compression ?? [0])),
    extBlock(o.exts),
  ]);
}

export function serverHelloBody(o: { version?: number; sessionId?: Buffer; cipher: number; exts: readonly Ext[] | null; random?: Buffer }): Buffer {
  return Buffer.concat([
    u16(o.version ?? 0x0303),
    o.random ?? Buffer.alloc(32, 0x22),
    vec(1, o.sessionId ?? Buffer.alloc(0)),
    u16(o.cipher),
    u8(0),
    extBlock(o.exts),
  ]);
}

/** A handshake message: type, 3-byte length, body. */
export function hs(type: number, body: Buffer): Buffer {
  return Buffer.concat([u8(type), u24(body.length), body]);
}

/** TLS ≤ 1.2 Certificate message body for a chain of DER certificates. */
export function certificateBody(ders: readonly Buffer[]): Buffer {
  return vec(3, Buffer.concat(ders.map((d) => vec(3, d))));
}

/** One record of a content type (no fragmentation). */
export function record(type: number, body: Buffer, version = 0x0303): Buffer {
  return Buffer.concat([u8(type), u16(version), u16(body.length), body]);
}

/** Handshake bytes fragmented into records of at most `max` bytes each. */
export function handshakeRecords(hsBytes: Buffer, max = 16384, version = 0x0303): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < hsBytes.length; i += max) parts.push(record(22, hsBytes.subarray(i, Math.min(i + max, hsBytes.length)), version));
  return Buffer.concat(parts);
}
