/**
 * HTTP/2 parser limits. Every buffer a flow keeps is bounded by one of these:
 * per direction one frame buffer (≤ maxFrameSize + 9), one header-block
 * buffer (≤ maxHeaderBlock), one HPACK table (≤ hpackTableCap) and its
 * Huffman scratch; plus at most maxStreams open transactions, each holding
 * ≤ 2 × maxHeaderListSize of decoded fields (headers + trailers per side).
 */
export interface Http2Config {
  /** Non-DATA frames longer than this are skipped (http2.long_frame_data), not buffered. RFC 9113 default max is 16384. */
  readonly maxFrameSize: number;
  /** HEADERS + CONTINUATION fragments of one block; beyond it: http2.header_block_too_long and that direction's HPACK state is lost. */
  readonly maxHeaderBlock: number;
  /** Decoded header list per block (name + value + 32 per field, RFC 9113 §6.5.2); fields beyond are dropped. */
  readonly maxHeaderListSize: number;
  /** Dynamic table size allowed at most, whatever SETTINGS_HEADER_TABLE_SIZE says. */
  readonly hpackTableCap: number;
  /** Open streams tracked per flow; more raise http2.too_many_streams and are not tracked. */
  readonly maxStreams: number;
}

export const HTTP2_DEFAULTS: Http2Config = Object.freeze({
  maxFrameSize: 1 << 20,
  maxHeaderBlock: 1 << 17,
  maxHeaderListSize: 1 << 16,
  hpackTableCap: 1 << 16,
  maxStreams: 512,
});

export function http2Config(over: Partial<Http2Config> = {}): Http2Config {
  return Object.freeze({ ...HTTP2_DEFAULTS, ...over });
}
