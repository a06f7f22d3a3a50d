export * from './sink.js';
export * from './topics.js';
export * from './errors.js';
export * from './client-options.js';
