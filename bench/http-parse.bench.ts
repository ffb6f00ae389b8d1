/**
 * Micro benchmark: HTTP/1.x parser (src/applayer/http/) on synthetic
 * keep-alive conversations — a browser-like GET (≈450-byte head) answered by
 * a 200 with a 1 KiB body — fed whole, in 100-byte segments (a worst case
 * for re-chunking), with the common sticky buffers built (uri, host,
 * http.header, user agent), and with a 10 KiB gzip body to decode.
 *
 * Figures are transactions (request + response) per second of this
 * process's CPU time (user + system), best of 3: the machine is shared, so
 * wall time is not meaningful. Output: Markdown table rows.
 */
import * as zlib from 'node:zlib';
import type { AppParserContext } from '../src/applayer/parser.js';
import { httpParser, type HttpTx } from '../src/applayer/http/index.js';

const REQ = Buffer.from(
  'GET /static/js/app.min.js?v=20240101&lang=en HTTP/1.1\r\nHost: www.example.com\r\n' +
  'User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0\r\n' +
  'Accept: */*\r\nAccept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate, br\r\n' +
  'Referer: http://www.example.com/index.html\r\nCookie: session=0123456789abcdef; theme=dark\r\n' +
  'Connection: keep-alive\r\nX-Forwarded-For: 203.0.113.9\r\n\r\n', 'latin1');
const BODY = Buffer.alloc(1024, 0x61);
const RESP = Buffer.concat([Buffer.from(
  'HTTP/1.1 200 OK\r\nServer: nginx/1.25.3\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\n' +
  'Content-Type: application/javascript\r\nCache-Control: max-age=3600\r\n' +
  `Content-Length: ${BODY.length}\r\n\r\n`, 'latin1'), BODY]);
const text = Buffer.from('function f(a){return a+1}\n'.repeat(400)); // ≈10 KiB
const gz = zlib.gzipSync(text);
const GZRESP = Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: ${gz.length}\r\n\r\n`, 'latin1'), gz]);

const N = 20000;
let sink = 0;

function once(resp: Buffer, seg: number, touch: boolean): number {
  const ctx: AppParserContext = {
    tx: (t) => {
      if (touch) {
        const x = t as HttpTx;
        sink += (x.uri?.length ?? 0) + (x.host?.length ?? 0) + (x.requestHeaderBuffer?.length ?? 0) + (x.userAgent?.length ?? 0);
      }
      sink++;
    },
    event: () => {},
    abandon: () => {},
  };
  const st = httpParser.create(ctx);
  const feed = (dir: 0 | 1, b: Buffer): void => {
    for (let at = 0; at < b.length; at += seg) httpParser.parse(st, dir, b, at, Math.min(seg, b.length - at), 0);
  };
  const t0 = process.cpuUsage();
  for (let i = 0; i < N; i++) {
    feed(0, REQ);
    feed(1, resp);
  }
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / 1e6;
}

function best(resp: Buffer, seg: number, touch: boolean): number {
  let b = Infinity;
  for (let k = 0; k < 3; k++) b = Math.min(b, once(resp, seg, touch));
  return N / b;
}

console.log('| case | tx/s (CPU) | µs/tx | MB/s |');
console.log('|---|---:|---:|---:|');
for (const [name, resp, seg, touch] of [
  ['GET + 1 KiB 200, whole messages', RESP, 1 << 30, false],
  ['same, 100-byte segments', RESP, 100, false],
  ['same, whole, + uri/host/http.header/UA buffers', RESP, 1 << 30, true],
  ['GET + gzip 10 KiB 200 (decoded), whole', GZRESP, 1 << 30, false],
] as const) {
  const r = best(resp, seg, touch);
  const mb = ((REQ.length + resp.length) * r) / 1e6;
  console.log(`| ${name} | ${Math.round(r)} | ${(1e6 / r).toFixed(2)} | ${mb.toFixed(0)} |`);
}
if (sink === 0) console.log('(nothing parsed?)');
