/** Kafka Connect health sidecar: poller, health rules, restarter, probe endpoint. */
export { ConnectHealth, startConnectHealth } from './sidecar.js';
export { ConnectClient, ConnectRequestError, parseConnectUrl, type ConnectErrorKind } from './client.js';
export { DEFAULT_OPTIONS, MAX_RESTART_BACKOFF_MS, resolveOptions, type ConnectHealthOptions } from './options.js';
export { evaluate, firstLine, judgeState, redactSecrets, stateKey, trackStates, type HealthInput, type RuleOptions, type StateSince } from './rules.js';
export { RestartPolicy, type RestartDecision, type RestartPolicyOptions } from './restarter.js';
export { ConnectHealthMetrics } from './metrics.js';
export { listenProbeServer, type ProbeServer, type ProbeSource } from './server.js';
export * from './types.js';
