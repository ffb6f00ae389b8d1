/**
 * Names of the HTTP anomalies the parser reports through `ctx.event()`.
 *
 * Where Suricata has an app-layer event for the same thing, the name is
 * Suricata's (lowercased, as rules write it: `app-layer-event:http.…`), so
 * rules and dashboards carry over. The few marked "Harrier" have no Suricata
 * counterpart.
 */
export const HTTP_EVENTS = {
  requestLineInvalid: 'http.request_line_invalid',
  requestLineLeadingWhitespace: 'http.request_line_leading_whitespace',
  requestLineMissingProtocol: 'http.request_line_missing_protocol',
  methodDelimNonCompliant: 'http.method_delim_non_compliant',
  uriDelimNonCompliant: 'http.uri_delim_non_compliant',
  responseInvalidProtocol: 'http.response_invalid_protocol',
  responseInvalidStatus: 'http.response_invalid_status',
  requestFieldMissingColon: 'http.request_field_missing_colon',
  responseFieldMissingColon: 'http.response_field_missing_colon',
  requestHeaderInvalid: 'http.request_header_invalid',
  responseHeaderInvalid: 'http.response_header_invalid',
  invalidRequestFieldFolding: 'http.invalid_request_field_folding',
  invalidResponseFieldFolding: 'http.invalid_response_field_folding',
  requestFieldTooLong: 'http.request_field_too_long',
  responseFieldTooLong: 'http.response_field_too_long',
  requestTooManyHeaders: 'http.request_too_many_headers',
  responseTooManyHeaders: 'http.response_too_many_headers',
  invalidContentLengthRequest: 'http.invalid_content_length_field_in_request',
  invalidContentLengthResponse: 'http.invalid_content_length_field_in_response',
  duplicateContentLengthRequest: 'http.duplicate_content_length_field_in_request',
  duplicateContentLengthResponse: 'http.duplicate_content_length_field_in_response',
  invalidTransferEncodingRequest: 'http.invalid_transfer_encoding_value_in_request',
  invalidTransferEncodingResponse: 'http.invalid_transfer_encoding_value_in_response',
  invalidRequestChunkLen: 'http.invalid_request_chunk_len',
  invalidResponseChunkLen: 'http.invalid_response_chunk_len',
  responseChunkedOldProto: 'http.response_chunked_old_proto',
  missingHostHeader: 'http.missing_host_header',
  hostHeaderAmbiguous: 'http.host_header_ambiguous',
  unableToMatchResponse: 'http.unable_to_match_response_to_request',
  gzipDecompressionFailed: 'http.gzip_decompression_failed',
  tooManyEncodingLayers: 'http.too_many_encoding_layers',
  requestAuthUnrecognized: 'http.request_auth_unrecognized',
  requestChunkExtension: 'http.request_chunk_extension',
  requestBodyUnexpected: 'http.request_body_unexpected',
  /** Harrier: a kept body (request or decoded response) hit its configured limit. */
  bodyLimitReached: 'http.body_limit_reached',
  /** Harrier: both Content-Length and Transfer-Encoding on one message (smuggling vector). */
  contentLengthAndTransferEncoding: 'http.content_length_and_transfer_encoding',
  /** Harrier: more pipelined requests than maxPendingTx waited for responses. */
  tooManyPendingTx: 'http.too_many_pending_transactions',
  /** Harrier: a TCP gap inside a start line or headers; the flow is abandoned. */
  gapInHeaders: 'http.gap_in_headers',
} as const;

export type HttpEventName = (typeof HTTP_EVENTS)[keyof typeof HTTP_EVENTS];
