/**
 * Names of the HTTP/2 anomalies the parser reports through `ctx.event()`.
 *
 * Suricata's names (rules/http2-events.rules, `app-layer-event:http2.…`)
 * where Suricata has the same event; the ones marked "Harrier" have none.
 */
export const HTTP2_EVENTS = {
  /** A frame header that breaks the rules: DATA/HEADERS on stream 0, SETTINGS/PING/GOAWAY on a stream, CONTINUATION out of place. */
  invalidFrameHeader: 'http2.invalid_frame_header',
  /** The client did not start with the connection preface. */
  invalidClientMagic: 'http2.invalid_client_magic',
  /** Frame payload inconsistent (padding longer than the frame, bad SETTINGS value). */
  invalidFrameData: 'http2.invalid_frame_data',
  /** A header block HPACK cannot decode, or a field not allowed in HTTP/2 (uppercase name, connection-specific, misplaced pseudo-header). */
  invalidHeader: 'http2.invalid_header',
  /** A frame whose length does not fit its type (SETTINGS not ×6, PING ≠ 8, WINDOW_UPDATE/RST_STREAM ≠ 4, PRIORITY ≠ 5, GOAWAY < 8). */
  invalidFrameLength: 'http2.invalid_frame_length',
  /** A frame longer than the configured maximum frame size (skipped, not buffered). */
  longFrameData: 'http2.long_frame_data',
  /** A client opened a stream with an id not above the ones before. */
  streamIdReuse: 'http2.stream_id_reuse',
  /** HPACK integer beyond 2^28 / too many continuation bytes. */
  headerIntegerOverflow: 'http2.header_integer_overflow',
  /** More concurrently open streams than the configured limit: further ones are not tracked. */
  tooManyStreams: 'http2.too_many_streams',
  /** The HTTP2-Settings header of an h2c upgrade request is not valid base64url SETTINGS. */
  invalidHttp1Settings: 'http2.invalid_http1_settings',
  /** `:authority` and `host` both present and naming different hosts (RFC 9113 §8.3.1). */
  authorityHostMismatch: 'http2.authority_host_mismatch',
  /** `:authority` with userinfo (`user:pass@host`), which HTTP/2 forbids. */
  userinfoInUri: 'http2.userinfo_in_uri',
  /** Harrier: a header block (HEADERS + CONTINUATION) longer than the header-list limit. */
  headerBlockTooLong: 'http2.header_block_too_long',
  /** Harrier: a dynamic table size update above the announced maximum. */
  invalidSizeUpdate: 'http2.invalid_size_update',
  /** Harrier: a TCP gap; HPACK state is lost, the flow is abandoned. */
  gap: 'http2.gap',
} as const;

export type Http2EventName = (typeof HTTP2_EVENTS)[keyof typeof HTTP2_EVENTS];
