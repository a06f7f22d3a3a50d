export { buildApp, type AppOptions } from './app.js';
export type { ApiContext, SinkStatusSource } from './context.js';
export { createAuthorizer, type Access, type Authorizer } from './auth.js';
export { createApiMetrics, type ApiMetrics } from './metrics.js';
export { toEventQuery, ALIAS_KINDS } from './query.js';
