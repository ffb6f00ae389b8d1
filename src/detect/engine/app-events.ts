/**
 * `app-layer-event`: which named app-layer events (the EVE anomaly names,
 * `tls.invalid_certificate`, `http.too_many_encoding_layers`, …) a flow has
 * raised, as the rule engine sees them.
 *
 * Suricata ties most events to the transaction being parsed; a rule checking
 * one is inspected against that transaction on every packet (either
 * direction, `flow:` permitting) until it fires, once per transaction.
 * Harrier's parsers report events per flow, not per transaction, so this
 * keeps, per flow, how many times each event was raised and, per rule, that
 * count when the rule last fired because of it: a rule matches while the
 * event has occurred more often than it has fired for it. So each
 * occurrence alerts once, on the first packet or transaction (in the rule's
 * direction) at or after it — the same count as Suricata's once per
 * transaction where each transaction raises the event once.
 *
 * Lists are short (an anomalous flow raises a handful of distinct events)
 * and bounded; nothing is allocated for flows without events.
 */
import type { Flow } from '../../flow/flow.js';
import type { CheckFn } from './checks.js';
import { flowState, peekFlowState } from './state.js';

/** Distinct events and firing rules remembered per flow (more are still counted by the app layer). */
const MAX_EVENTS = 32;
const MAX_FIRED = 64;

/** Per-flow event memory (SigFlowState.appEvents). */
export class FlowAppEvents {
  readonly names: string[] = [];
  readonly counts: number[] = [];
  /** Rule index, and the count of its event when it fired, pairwise. */
  readonly firedRule: number[] = [];
  readonly firedAt: number[] = [];

  count(name: string): number {
    const i = this.names.indexOf(name);
    return i < 0 ? 0 : this.counts[i]!;
  }

  firedCount(rule: number): number {
    const i = this.firedRule.indexOf(rule);
    return i < 0 ? 0 : this.firedAt[i]!;
  }
}

/** Record one occurrence of an event on `flow`. */
export function noteAppEvent(flow: Flow, name: string): void {
  const fs = flowState(flow);
  const ev = (fs.appEvents ??= new FlowAppEvents());
  const i = ev.names.indexOf(name);
  if (i >= 0) ev.counts[i]!++;
  else if (ev.names.length < MAX_EVENTS) {
    ev.names.push(name);
    ev.counts.push(1);
  }
}

/** Rule `rule`, which checks `event`, fired on `flow`: this occurrence is used up. */
export function appEventFired(flow: Flow, rule: number, event: string): void {
  const ev = peekFlowState(flow)?.appEvents;
  if (ev === undefined || ev === null) return;
  const n = ev.count(event);
  const i = ev.firedRule.indexOf(rule);
  if (i >= 0) ev.firedAt[i] = n;
  else if (ev.firedRule.length < MAX_FIRED) {
    ev.firedRule.push(rule);
    ev.firedAt.push(n);
  }
}

/**
 * The check of one `app-layer-event` option of rule `rule`. Negated: the
 * flow never raised the event. `consumes`: this is the event whose
 * occurrences the rule's firing uses up (the rule's first non-negated one;
 * see CompiledRule.appEvent).
 */
export function appEventCheck(rule: number, event: string, negated: boolean, consumes: boolean): CheckFn {
  return (_p, fl) => {
    if (fl === null) return false;
    const ev = peekFlowState(fl)?.appEvents;
    const n = ev === undefined || ev === null ? 0 : ev.count(event);
    if (negated) return n === 0;
    if (n === 0) return false;
    return !consumes || n > ev!.firedCount(rule);
  };
}
