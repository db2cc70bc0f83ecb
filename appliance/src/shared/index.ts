export * from './time.js';
export * from './messages.js';
export * from './errors.js';
export * from './crc32.js';
export * from './durable.js';
export * from './serialwriter.js';
