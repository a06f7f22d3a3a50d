export * from './schema.js';
export * from './validate.js';
export * from './event.js';
export * from './entity-states.js';
