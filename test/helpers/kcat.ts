/** kcat (librdkafka's CLI), the independent Kafka client several tests compare against. */
import { spawn } from 'node:child_process';

export interface KcatResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs kcat with `args`; killed after `timeoutMs` as a hang guard. */
export function runKcat(args: string[], timeoutMs = 30_000): Promise<KcatResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('kcat', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    // Decoded once at the end: a chunk may end inside a multi-byte character.
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

/**
 * Every record of `topic` from the beginning to the end, read with kcat -f `fields` (kcat
 * format codes such as %k, %h, %s): one array of the fields' texts per record. Fields and
 * records are separated by control characters that keys, header text and JSON never hold.
 */
export async function kcatFields(brokers: string, topic: string, fields: readonly string[]): Promise<string[][]> {
  const r = await runKcat(['-C', '-b', brokers, '-t', topic, '-o', 'beginning', '-e', '-q', '-f', `${fields.join('\x1f')}\x1e`]);
  if (r.code !== 0) throw new Error(`kcat exited ${r.code}: ${r.stderr}`);
  return r.stdout.split('\x1e').filter((rec) => rec !== '').map((rec) => rec.split('\x1f'));
}
