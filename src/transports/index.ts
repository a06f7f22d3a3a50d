/** Transports: the contracts, the registry, and each transport's public pieces. */
export * from './types.js';
export * from './registry.js';
