import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '../src/config';
import { type K8sObject, renderKustomization } from './helpers/kustomize';

// deploy/kubernetes rendered as `kubectl apply -k` would, every object checked against the
// Kubernetes schemas (kubernetes-models), and the settings that must agree with the server
// (probes, ports, drain time, configuration, the migration script) checked against it.

const ROOT = path.join(__dirname, '..');
const KUBE = path.join(ROOT, 'deploy', 'kubernetes');
const OVERLAYS = ['single-redis', 'redis-cluster'];
const TARGETS = ['base', ...OVERLAYS.map((overlay) => `overlays/${overlay}`)];

type Model = new (data: unknown) => { validate(): void };

/** kubernetes-models' class for an object's apiVersion and kind (core objects live at the root). */
function modelOf(object: K8sObject): Model {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const module = require(`kubernetes-models/${object.apiVersion}/${object.kind}`) as Record<string, Model>;
  const model = module[object.kind];
  if (!model) throw new Error(`kubernetes-models has no ${object.apiVersion} ${object.kind}`);
  return model;
}

const find = (objects: K8sObject[], kind: string, name: string): K8sObject => {
  const found = objects.find((object) => object.kind === kind && object.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name}`);
  return found;
};

const matches = (selector: Record<string, string>, labels: Record<string, string> | undefined) => Object.entries(selector).every(([key, value]) => labels?.[key] === value);

describe.each(TARGETS)('deploy/kubernetes/%s', (target) => {
  const objects = renderKustomization(path.join(KUBE, target));

  it('renders objects that all validate against the Kubernetes schemas, each named once', () => {
    expect(objects.length).toBeGreaterThanOrEqual(6);
    for (const object of objects) {
      const label = `${object.apiVersion} ${object.kind} ${object.metadata?.name}`;
      expect(() => new (modelOf(object))(object).validate()).not.toThrow();
      expect(label).toMatch(/^\S+ \S+ [a-z0-9-]+$/);
    }
    // The schemas bite: a wrong type fails.
    const broken = structuredClone(find(objects, 'Deployment', 'chat-api'));
    broken.spec.template.spec.containers[0].ports[0].containerPort = 'http';
    expect(() => new (modelOf(broken))(broken).validate()).toThrow(/containerPort/);
    const keys = objects.map((object) => `${object.kind}/${object.metadata.name}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('runs the app the way the server expects: probes, port, drain time, migrations, resources', () => {
    const deployment = find(objects, 'Deployment', 'chat-api');
    const pod = deployment.spec.template.spec;
    const [app] = pod.containers;
    const settings = find(objects, 'ConfigMap', 'chat-api').data as Record<string, string>;
    const config = loadConfig({ ...settings, DATABASE_URL: 'postgres://chat:secret@postgres:5432/chat' });

    expect(app.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(app.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(app.ports).toEqual([{ name: 'http', containerPort: config.port, protocol: 'TCP' }]);
    // The image exposes the same port.
    expect(fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8')).toMatch(new RegExp(`^EXPOSE ${config.port}$`, 'm'));

    // SIGTERM comes after preStop; the server then drains for up to SHUTDOWN_TIMEOUT_MS (main.ts
    // exits 1.5 s after that at the latest): all of it must fit in the grace period.
    const preStopSeconds = Number(app.lifecycle.preStop.exec.command[1]);
    expect(app.lifecycle.preStop.exec.command[0]).toBe('sleep');
    expect(preStopSeconds).toBeGreaterThanOrEqual(3);
    expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(preStopSeconds * 1000 + config.shutdownTimeoutMs + 1500);

    // Migrations run first, with the same configuration, through scripts/migrate.ts (the advisory lock).
    const [migrate] = pod.initContainers;
    expect(migrate.command).toEqual(['node', 'dist/scripts/migrate.js']);
    expect(fs.existsSync(path.join(ROOT, 'dist', 'scripts', 'migrate.js'))).toBe(true);
    expect(migrate.image).toBe(app.image);
    expect(migrate.envFrom).toEqual(app.envFrom);

    for (const container of [...pod.initContainers, ...pod.containers]) {
      expect(container.resources.requests).toEqual({ cpu: expect.any(String), memory: expect.any(String) });
      expect(container.resources.limits.memory).toEqual(expect.any(String));
    }
    expect(deployment.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
  });

  it('points the Service, PodDisruptionBudget and HorizontalPodAutoscaler at the app, without session affinity', () => {
    const deployment = find(objects, 'Deployment', 'chat-api');
    const podLabels = deployment.spec.template.metadata.labels as Record<string, string>;
    const service = find(objects, 'Service', 'chat-api');
    expect(matches(service.spec.selector, podLabels)).toBe(true);
    expect(service.spec.sessionAffinity).toBe('None');
    expect(service.spec.ports[0].targetPort).toBe('http');
    expect(matches(find(objects, 'PodDisruptionBudget', 'chat-api').spec.selector.matchLabels, podLabels)).toBe(true);
    const hpa = find(objects, 'HorizontalPodAutoscaler', 'chat-api');
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'chat-api' });
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    const ingress = find(objects, 'Ingress', 'chat-api');
    const annotations = ingress.metadata.annotations as Record<string, string>;
    expect(Number(annotations['nginx.ingress.kubernetes.io/proxy-read-timeout'])).toBeGreaterThanOrEqual(3600);
    expect(ingress.spec.rules[0].http.paths[0].backend.service).toEqual({ name: 'chat-api', port: { name: 'http' } });
  });
});

describe('deploy/kubernetes overlays', () => {
  const settingsOf = (objects: K8sObject[]) => find(objects, 'ConfigMap', 'chat-api').data as Record<string, string>;

  it('single-redis: REDIS_URL names the in-cluster Redis Service', () => {
    const objects = renderKustomization(path.join(KUBE, 'overlays/single-redis'));
    const config = loadConfig({ ...settingsOf(objects), DATABASE_URL: 'postgres://x@db/chat' });
    expect(config.redisCluster).toBeNull();
    const url = new URL(config.redisUrl!);
    const service = find(objects, 'Service', url.hostname);
    expect(service.spec.ports[0].port).toBe(Number(url.port));
    expect(matches(service.spec.selector, find(objects, 'Deployment', url.hostname).spec.template.metadata.labels)).toBe(true);
  });

  it('redis-cluster: REDIS_URL seeds the cluster with StatefulSet pods behind the headless Service', () => {
    const objects = renderKustomization(path.join(KUBE, 'overlays/redis-cluster'));
    const config = loadConfig({ ...settingsOf(objects), DATABASE_URL: 'postgres://x@db/chat' });
    const statefulSet = find(objects, 'StatefulSet', 'chat-redis-cluster');
    const headless = find(objects, 'Service', statefulSet.spec.serviceName);
    expect(headless.spec.clusterIP).toBe('None');
    // Three masters and a replica each.
    expect(statefulSet.spec.replicas).toBe(6);
    expect(config.redisCluster!.nodes.length).toBeGreaterThanOrEqual(3);
    for (const node of config.redisCluster!.nodes) {
      const match = new RegExp(`^${statefulSet.metadata.name}-(\\d+)\\.${headless.metadata.name}$`).exec(node.host);
      expect(match).not.toBeNull();
      expect(Number(match![1])).toBeLessThan(statefulSet.spec.replicas);
      expect(node.port).toBe(6379);
    }
    const job = find(objects, 'Job', 'chat-redis-cluster-create');
    expect(job.spec.template.spec.containers[0].args[0]).toMatch(/--cluster create \$nodes --cluster-replicas 1/);
  });

  it('docker-compose.yml still configures the app with settings the server accepts', () => {
    const compose = parse(fs.readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8')) as { services: { app: { environment: Record<string, string>; ports: string[] } } };
    const config = loadConfig(compose.services.app.environment);
    expect(compose.services.app.ports[0]).toBe(`${config.port}:${config.port}`);
    expect(config.redisUrl).toBe('redis://redis:6379');
  });
});
