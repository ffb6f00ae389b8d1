/**
 * The declaration every application-layer protocol implements.
 *
 * A protocol is one folder under src/applayer/ exporting one declaration of
 * this shape, plus one line in the registry (src/applayer/registry.ts). The
 * pipeline owns detection, flow state and output; the protocol only says
 * "is this mine?" (probe), keeps per-flow state, and reports transactions.
 *
 * Directions: 0 = toServer (from the flow's client), 1 = toClient.
 * Data arrives in order (TCP reassembled) or as whole datagrams (UDP), in
 * arbitrary chunk sizes for TCP: a parser must accept a message split at any
 * byte and must never throw on hostile input — it reports a named event
 * (`ctx.event('http.request_header_invalid')`, …) and carries on or gives up
 * on the flow (`ctx.abandon()`), bounded in memory by its own limits.
 */
export type Direction = 0 | 1;

export const enum Probe {
  /** Not this protocol. */
  NO = 0,
  /** Could be; show me more bytes. */
  NEED_MORE = 1,
  /** This protocol. */
  YES = 2,
}

/** One completed (or flushed) protocol transaction. */
export interface AppTx {
  /** app_proto name of the parser that produced it (`http`, `dns`, `tls`, `ssh`, …). */
  readonly proto: string;
  /** Per-flow transaction counter, from 0. */
  readonly txId: number;
  /**
   * Direction of the message that completed the transaction, when the record
   * should be oriented by it (a DNS answer is logged from the server, as
   * Suricata does); absent: oriented client → server like the flow.
   */
  readonly dir?: Direction;
  /**
   * The EVE object for this transaction, i.e. the value placed under the
   * record's protocol key (`http`, `dns`, `tls`, `ssh`) — Suricata's field names.
   */
  eve(): Record<string, unknown>;
  /**
   * Several EVE objects for one transaction, when the protocol logs it as
   * several records (a DNS query with two questions is two records in
   * Suricata 7). When present it is used instead of `eve()`.
   */
  eveRecords?(): Record<string, unknown>[];
}

/** What the pipeline gives a parser instance for its flow. */
export interface AppParserContext {
  /** A transaction is complete (or as complete as it will get). */
  tx(tx: AppTx): void;
  /** A named protocol anomaly, counted in stats as `app_layer.event.<name>`. */
  event(name: string): void;
  /** Stop parsing this flow (garbage or beyond limits); counted. */
  abandon(reason: string): void;
}

export interface AppParserDecl<S> {
  /** app_proto name as in EVE (`http`, `http2`, `dns`, `tls`, `ssh`, …). */
  readonly name: string;
  readonly transport: 'tcp' | 'udp' | 'both';
  /** Ports that make this protocol the first guess to probe; never required. */
  readonly ports?: readonly number[];
  /**
   * Content-based detection on the first bytes of one direction.
   * Must be cheap and allocation-free; may return NEED_MORE for short input.
   */
  probe(dir: Direction, buf: Buffer, off: number, len: number): Probe;
  /** New per-flow parser state. */
  create(ctx: AppParserContext): S;
  /** In-order bytes (TCP) or one datagram (UDP) of one direction. */
  parse(state: S, dir: Direction, buf: Buffer, off: number, len: number, tsSec: number): void;
  /** Bytes lost in one direction (TCP gap); the parser resynchronises or abandons. */
  gap?(state: S, dir: Direction, len: number): void;
  /** The flow ended: flush any transaction still open. */
  end?(state: S): void;
  /**
   * Asked after each `parse`: has the flow switched to another protocol that
   * Harrier parses (HTTP/1.1 `Upgrade: h2c` → HTTP/2)? If so, returns that
   * protocol's declaration and a `start` that makes its state (with `ctx`,
   * fed the bytes this parser already received for it). The stage names the
   * flow's new app_proto before calling `start`, so transactions completed
   * by those first bytes are logged under it; it feeds the new parser what follows.
   */
  switchTo?(state: S, ctx: AppParserContext): AppSwitch | null;
}

/**
 * What `switchTo` answers when the connection stops being this protocol:
 * either a known next protocol (`decl` + `start`), or `redetect`: the
 * protocol is not known in advance (a 2xx to HTTP `CONNECT` opens a tunnel
 * that may carry TLS, HTTP or anything; PostgreSQL's accepted SSLRequest is
 * followed by TLS), so the stage runs protocol detection again from the
 * bytes that follow — Suricata's AppLayerRequestProtocolChange /
 * AppLayerRequestProtocolTLSUpgrade. `handoff[dir]` are bytes of each
 * direction already received past the switch point (null: none).
 */
export type AppSwitch =
  | { decl: AppParserDecl<unknown>; start(): unknown }
  | { redetect: true; handoff: readonly [Buffer | null, Buffer | null] };

