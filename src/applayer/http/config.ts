/**
 * HTTP/1.x parser limits and options.
 *
 * Every buffer the parser keeps is bounded by one of these, so a hostile flow
 * costs at most about `maxPendingTx × (headLimit + requestBodyLimit +
 * responseBodyLimit + compressed cap)` bytes. Defaults follow Suricata's
 * libhtp section where it has one (request/response-body-limit 100 KiB,
 * 1024 headers per message); the head limit is our own (libhtp limits a
 * single field to 18000 bytes; 64 KiB for the whole head is a little more generous).
 */
export interface HttpConfig {
  /** Request body bytes kept on the transaction (http.request_body). 0 keeps none. */
  readonly requestBodyLimit: number;
  /** Response body bytes kept after content decoding (http.response_body / file_data). */
  readonly responseBodyLimit: number;
  /** Start line + headers (+ trailers) of one message; beyond it the flow is abandoned. */
  readonly headLimit: number;
  /** Header lines per message; more raise http.request_too_many_headers / response_… and are dropped. */
  readonly maxHeaders: number;
  /** Transactions waiting for their response (pipelining); the oldest is flushed beyond it. */
  readonly maxPendingTx: number;
  /** Decode gzip/deflate response (and request) bodies. */
  readonly decompress: boolean;
  /** Content-Encoding layers decoded at most (gzip, gzip counts 2); more raise http.too_many_encoding_layers. */
  readonly maxEncodingLayers: number;
  /** Add request_headers / response_headers arrays to the EVE object (Suricata's dump-all-headers). */
  readonly extendedEve: boolean;
}

export const HTTP_DEFAULTS: HttpConfig = Object.freeze({
  requestBodyLimit: 100 * 1024,
  responseBodyLimit: 100 * 1024,
  headLimit: 64 * 1024,
  maxHeaders: 1024,
  maxPendingTx: 64,
  decompress: true,
  maxEncodingLayers: 2,
  extendedEve: false,
});

/** Defaults overlaid with `over`; negative or non-finite numbers fall back to the default. */
export function httpConfig(over: Partial<HttpConfig> = {}): HttpConfig {
  const pick = (v: number | undefined, d: number): number =>
    v !== undefined && Number.isFinite(v) && v >= 0 ? Math.floor(v) : d;
  return Object.freeze({
    requestBodyLimit: pick(over.requestBodyLimit, HTTP_DEFAULTS.requestBodyLimit),
    responseBodyLimit: pick(over.responseBodyLimit, HTTP_DEFAULTS.responseBodyLimit),
    headLimit: Math.max(256, pick(over.headLimit, HTTP_DEFAULTS.headLimit)),
    maxHeaders: pick(over.maxHeaders, HTTP_DEFAULTS.maxHeaders),
    maxPendingTx: Math.max(1, pick(over.maxPendingTx, HTTP_DEFAULTS.maxPendingTx)),
    decompress: over.decompress ?? HTTP_DEFAULTS.decompress,
    maxEncodingLayers: pick(over.maxEncodingLayers, HTTP_DEFAULTS.maxEncodingLayers),
    extendedEve: over.extendedEve ?? HTTP_DEFAULTS.extendedEve,
  });
}
