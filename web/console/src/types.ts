/** The shapes the console reads from the REST API (a subset of what the server sends). */
export type Severity = 'debug' | 'info' | 'warning' | 'error' | 'critical';

export const SEVERITIES: readonly Severity[] = ['debug', 'info', 'warning', 'error', 'critical'];

export interface HeraldEvent {
  id: string;
  source: string;
  type: string;
  time: string;
  severity: Severity;
  subject?: string;
  entity?: { kind: string; id: string };
  message?: string;
  data?: unknown;
  [key: string]: unknown;
}

export interface EntityState {
  kind: string;
  id: string;
  state: string;
  previous: string | null;
  enteredAt: string;
  updatedAt: string;
  attributes: Record<string, unknown>;
}

export interface SinkStatus {
  name: string;
  type: string;
  profile: string;
  enabled: boolean;
  connected: boolean;
  pending: number;
  parked: number;
  delivered: number;
  failed: number;
  retries: number;
  oldestPendingAgeSeconds: number | null;
  lastError: string | null;
  lastErrorAt: string | null;
}

/** How a live connection is doing, shown in the header. */
export type LinkState = 'connecting' | 'live' | 'reconnecting' | 'needs-token';
