/**
 * TCP session state as far as the flow table needs it: for EVE `tcp.state` /
 * `flow.state` and to pick the timeout a flow is under. Sequence tracking for
 * reassembly lives in src/stream/.
 *
 * The state names follow Suricata's machine, which is written from the
 * server's point of view: a FIN from the client first moves ESTABLISHED to
 * CLOSE_WAIT (then the server's FIN → LAST_ACK, the client's ACK → CLOSED); a
 * FIN from the server first moves it to FIN_WAIT1 (client ACK → FIN_WAIT2,
 * client FIN → TIME_WAIT, or CLOSING when that FIN does not ACK the server's;
 * the server's last ACK → CLOSED). A RST in any state closes. A first packet
 * that is neither SYN nor SYN/ACK is a mid-stream pick-up: ESTABLISHED.
 *
 * Flow state mapping (Suricata's StreamTcpPacketSetState): ESTABLISHED …
 * CLOSE_WAIT are `established`; LAST_ACK, TIME_WAIT, CLOSED are `closed`;
 * before that `new`.
 */
import { Flow, FlowState, TcpState } from './flow.js';

const FIN = 0x01;
const SYN = 0x02;
const RST = 0x04;
const ACK = 0x10;

/** True when `ack` acknowledges sequence `target` (32-bit wrap-aware). */
function acks(ack: number, target: number): boolean {
  return target >= 0 && ((ack - target) | 0) >= 0;
}

/**
 * Advance `f`'s TCP state for one packet travelling in direction `dir`
 * (0 toServer, 1 toClient). `len` is the TCP payload length.
 */
export function tcpTrack(f: Flow, dir: number, flags: number, seq: number, ack: number, len: number): void {
  let s = f.tcpState;
  if (flags & RST) {
    s = TcpState.CLOSED;
  } else {
    switch (s) {
      case TcpState.NONE:
        if (flags & SYN) s = flags & ACK ? TcpState.SYN_RECV : TcpState.SYN_SENT;
        else s = TcpState.ESTABLISHED;
        break;
      case TcpState.SYN_SENT:
        if ((flags & (SYN | ACK)) === (SYN | ACK)) {
          if (dir === 1) s = TcpState.SYN_RECV;
        } else if (!(flags & SYN) && flags & ACK) {
          // The SYN/ACK was not captured but the handshake went on.
          s = TcpState.ESTABLISHED;
        }
        break;
      case TcpState.SYN_RECV:
        if (!(flags & SYN) && flags & ACK) s = TcpState.ESTABLISHED;
        break;
      default:
        break;
    }
    if (s >= TcpState.ESTABLISHED) {
      if (flags & FIN) {
        const finAck = (seq + len + 1) >>> 0;
        if (dir === 0) f.finAckToServer = finAck;
        else f.finAckToClient = finAck;
        switch (s) {
          case TcpState.ESTABLISHED:
            s = dir === 0 ? TcpState.CLOSE_WAIT : TcpState.FIN_WAIT1;
            break;
          case TcpState.FIN_WAIT1:
            if (dir === 0) s = flags & ACK && acks(ack, f.finAckToClient) ? TcpState.TIME_WAIT : TcpState.CLOSING;
            break;
          case TcpState.FIN_WAIT2:
            if (dir === 0) s = TcpState.TIME_WAIT;
            break;
          case TcpState.CLOSE_WAIT:
            if (dir === 1) s = TcpState.LAST_ACK;
            break;
          default:
            break;
        }
      } else if (flags & ACK) {
        switch (s) {
          case TcpState.FIN_WAIT1:
            if (dir === 0 && acks(ack, f.finAckToClient)) s = TcpState.FIN_WAIT2;
            break;
          case TcpState.CLOSING:
            if (dir === 1 && acks(ack, f.finAckToServer)) s = TcpState.TIME_WAIT;
            break;
          case TcpState.TIME_WAIT:
            if (dir === 1 && acks(ack, f.finAckToServer)) s = TcpState.CLOSED;
            break;
          case TcpState.LAST_ACK:
            if (dir === 0 && acks(ack, f.finAckToClient)) s = TcpState.CLOSED;
            break;
          default:
            break;
        }
      }
    }
  }
  f.tcpState = s;
  f.state = s < TcpState.ESTABLISHED ? FlowState.NEW : s < TcpState.LAST_ACK ? FlowState.ESTABLISHED : FlowState.CLOSED;
}
