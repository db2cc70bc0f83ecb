export * from './time.js';
export * from './messages.js';
export * from './errors.js';
