/** Profiles: one module per ecosystem format, the registry, the decode chain. */
export * from './types.js';
export * from './registry.js';
export { decodeMessage, decodePlainJson, summarizeDecoded } from './decode.js';
