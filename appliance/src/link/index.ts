/**
 * The link room: the modelled main-station protocol (docs/protocol.md) and the gateway's client
 * side of it. Enter here; nothing outside this folder imports its inner files.
 */
export * from './frame.js';
export * from './messages.js';
export * from './errors.js';
export * from './transport.js';
export * from './servers.js';
export * from './keepalive.js';
export * from './inbound.js';
export * from './outbound.js';
export * from './types.js';
export { LinkClient, SEND_BLOCK_REPEAT_MS } from './session.js';
export * from './text.js';
export * from './answers.js';
