/**
 * What sim/ takes from link/: only the wire codec (framing and message bodies), which the
 * simulator shares with the gateway so both ends speak the same model of the protocol. The
 * simulator must not use the gateway's session logic: it is the reference peer that logic is
 * tested against.
 */
export {
  encodeFrame,
  FrameDecoder,
  FrameError,
  decodeMessage,
  encodeMessage,
  MessageType,
  REJECT_CODES,
  type LogonBody,
  type Message,
  type OrderBody,
  type ReturnBody,
} from '../link/index.js';
