/**
 * The one place where sim/ reaches into link/: the wire codec (framing and message bodies), which
 * the simulator shares with the gateway so both ends speak the same model of the protocol.
 * When link/index.ts exports these, point the two imports below at '../link/index.js'.
 */
// codec only: sim is the reference peer of link/
// eslint-disable-next-line no-restricted-imports
export { encodeFrame, FrameDecoder, FrameError } from '../link/frame.js';
// codec only: sim is the reference peer of link/
// eslint-disable-next-line no-restricted-imports
export {
  decodeMessage,
  encodeMessage,
  MessageType,
  REJECT_CODES,
  type LogonBody,
  type Message,
  type OrderBody,
  type ReturnBody,
} from '../link/messages.js';
