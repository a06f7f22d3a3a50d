/**
 * The Kubernetes example and the Dockerfile are code too: these tests parse them and check that
 * the probes point where the sidecar actually listens, as its own flag parser reads its args.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { parseConnectHealthArgs } from '../../src/cli/connect-health.js';
import { resolveOptions } from '../../src/connect-health/options.js';
import { ROOT } from '../helpers/env.js';

interface Probe {
  httpGet?: { path?: string; port?: number | string };
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
}
interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: Array<{ name: string }>;
  ports?: Array<{ name?: string; containerPort: number }>;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
}
interface Doc {
  kind: string;
  metadata: { name: string; annotations?: Record<string, string> };
  spec: Record<string, unknown>;
}

const DIR = join(ROOT, 'deploy', 'kubernetes');

function loadDocs(): Doc[] {
  const files = readdirSync(DIR).filter((f) => /\.ya?ml$/.test(f));
  assert.ok(files.length > 0, 'deploy/kubernetes has YAML files');
  return files.flatMap((f) =>
    parseAllDocuments(readFileSync(join(DIR, f), 'utf8')).map((d) => {
      assert.deepEqual(d.errors, [], `${f} parses`);
      return d.toJS() as Doc;
    }),
  ).filter((d) => d !== null);
}

const docs = loadDocs();
const deployments = docs.filter((d) => d.kind === 'Deployment');
const podOf = (d: Doc): { metadata: Doc['metadata']; spec: { containers: Container[] } } =>
  (d.spec as { template: { metadata: Doc['metadata']; spec: { containers: Container[] } } }).template;

function sidecarOf(containers: Container[]): { container: Container; options: ReturnType<typeof resolveOptions> } {
  const container = containers.find((c) => c.args?.[0] === 'connect-health');
  assert.ok(container, 'the pod has a container running herald connect-health');
  return { container, options: resolveOptions(parseConnectHealthArgs(container.args!.slice(1)).options) };
}

function assertTimings(p: Probe, what: string): void {
  for (const k of ['periodSeconds', 'timeoutSeconds', 'failureThreshold'] as const) {
    assert.ok(Number.isInteger(p[k]) && p[k]! >= 1, `${what}.${k} is set`);
  }
  assert.ok(p.timeoutSeconds! < p.periodSeconds!, `${what}: timeoutSeconds below periodSeconds`);
}

describe('deploy/kubernetes', () => {
  it('has a Deployment with Kafka Connect and the connect-health sidecar', () => {
    assert.ok(deployments.length >= 1);
    for (const d of deployments) {
      const containers = podOf(d).spec.containers;
      assert.ok(containers.length >= 2, `${d.metadata.name} has Connect and the sidecar`);
      const { container, options } = sidecarOf(containers);
      assert.match(container.image, /herald/);
      // The kubelet probes the pod IP: loopback would make every probe fail.
      assert.equal(options.host, '0.0.0.0');
      assert.deepEqual(container.ports?.map((p) => p.containerPort), [options.port]);
    }
  });

  it("points the liveness probe of BOTH containers at the sidecar's /health, readiness at /ready", () => {
    for (const d of deployments) {
      const containers = podOf(d).spec.containers;
      const { options } = sidecarOf(containers);
      for (const c of containers) {
        assert.deepEqual(c.livenessProbe?.httpGet, { path: '/health', port: options.port }, `${c.name} liveness`);
        assert.deepEqual(c.readinessProbe?.httpGet, { path: '/ready', port: options.port }, `${c.name} readiness`);
        if (c.startupProbe) assert.deepEqual(c.startupProbe.httpGet, { path: '/ready', port: options.port }, `${c.name} startup`);
        assertTimings(c.livenessProbe!, `${c.name}.livenessProbe`);
        assertTimings(c.readinessProbe!, `${c.name}.readinessProbe`);
        assert.ok(Number.isInteger(c.livenessProbe!.initialDelaySeconds), `${c.name}.livenessProbe.initialDelaySeconds is set`);
      }
    }
  });

  it("lets the sidecar reach Connect's REST port and expands every $(VAR) it uses", () => {
    for (const d of deployments) {
      const containers = podOf(d).spec.containers;
      const { container, options } = sidecarOf(containers);
      const url = new URL(options.connectUrl);
      assert.equal(url.hostname, '127.0.0.1', 'same pod: Connect is on localhost');
      const restPorts = containers.filter((c) => c !== container).flatMap((c) => c.ports ?? []).map((p) => p.containerPort);
      assert.ok(restPorts.includes(Number(url.port)), `--connect-url port ${url.port} is a Connect container port`);
      const env = new Set((container.env ?? []).map((e) => e.name));
      for (const a of container.args ?? []) for (const m of a.matchAll(/\$\(([A-Z_]+)\)/g)) assert.ok(env.has(m[1]!), `$(${m[1]}) is defined`);
      // Sidecar timings must fit the probes: a poll finishes before the cache goes stale.
      assert.ok(options.timeoutMs < options.intervalMs, '--timeout is shorter than --interval');
      const annotations = podOf(d).metadata.annotations ?? {};
      if (annotations['prometheus.io/port']) assert.equal(Number(annotations['prometheus.io/port']), options.port);
    }
  });

  it("routes the Service's named target ports to declared container ports", () => {
    const named = new Set(deployments.flatMap((d) => podOf(d).spec.containers.flatMap((c) => (c.ports ?? []).map((p) => p.name))));
    for (const s of docs.filter((d) => d.kind === 'Service')) {
      for (const p of (s.spec as { ports: Array<{ targetPort: string | number }> }).ports) {
        if (typeof p.targetPort === 'string') assert.ok(named.has(p.targetPort), `Service ${s.metadata.name} targetPort ${p.targetPort}`);
      }
    }
  });
});

describe('Dockerfile', () => {
  const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const lines = text.split('\n').filter((l) => !l.startsWith('#'));

  it('builds on a Node.js 20 slim image with npm ci and runs herald as a non-root user', () => {
    assert.ok(lines.filter((l) => l.startsWith('FROM ')).every((l) => /^FROM node:20[.\d]*-(\w+-)?slim\b/.test(l)));
    assert.ok(lines.some((l) => /^RUN .*npm ci\b/.test(l)));
    const user = lines.filter((l) => l.startsWith('USER ')).pop();
    assert.ok(user, 'a USER line');
    assert.doesNotMatch(user, /^USER (root|0)(:|$)/);
    assert.equal(lines.filter((l) => l.startsWith('ENTRYPOINT ')).pop(), 'ENTRYPOINT ["herald"]');
    assert.match(readFileSync(join(ROOT, '.dockerignore'), 'utf8'), /^node_modules$/m);
  });
});
