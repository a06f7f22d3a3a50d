/** Kafka bootstrap addresses: `host:port`, IPv6 hosts in brackets. */
import { UsageError } from '../../errors.js';

/** True for `host:port` with a port in range; IPv6 hosts in brackets. */
export function isBrokerAddress(s: string): boolean {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(s);
  return m !== null && Number(m[2]) > 0 && Number(m[2]) <= 65535;
}

/** `--brokers host:port[,host:port]`; a bad list is a usage error naming the flag. */
export function parseBrokers(value: string, name = '--brokers'): string[] {
  const list = value.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = list.find((b) => !isBrokerAddress(b));
  if (list.length === 0 || bad !== undefined) {
    throw new UsageError(`${name} must be HOST:PORT[,HOST:PORT...], got "${value}"`, [{ path: name, message: 'must be HOST:PORT[,HOST:PORT...]' }]);
  }
  return list;
}
