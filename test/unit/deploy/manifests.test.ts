import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAll } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { writeModel } from '../../fixtures/onnx-models.js';
import { manifestProblems } from './strict-manifest.js';

const DIR = join(import.meta.dirname, '../../../deploy/kubernetes');

interface Document {
  readonly file: string;
  readonly body: Record<string, unknown>;
}

function documents(): Document[] {
  const files = readdirSync(DIR).filter((name) => /\.ya?ml$/.test(name));
  return files.flatMap((file) =>
    loadAll(readFileSync(join(DIR, file), 'utf8'))
      .filter((body) => body !== null && body !== undefined)
      .map((body) => ({ file, body: body as Record<string, unknown> })),
  );
}

function find(kind: string, name: string): Record<string, unknown> {
  const found = documents().find(
    (d) => d.body['kind'] === kind && (d.body['metadata'] as { name?: string }).name === name,
  );
  if (found === undefined) throw new Error(`no ${kind} ${name} under deploy/kubernetes/`);
  return found.body;
}

// Walks a path of keys and indexes, for the assertions below.
function at(value: unknown, ...path: (string | number)[]): unknown {
  let here = value;
  for (const step of path) here = (here as Record<string | number, unknown>)[step];
  return here;
}

describe('deploy/kubernetes manifests', () => {
  it('validates every document strictly against the Kubernetes and KEDA schemas', () => {
    const all = documents();
    expect(all.map((d) => `${String(d.body['kind'])}`).sort()).toEqual([
      'ConfigMap',
      'Deployment',
      'Deployment',
      'NetworkPolicy',
      'PodDisruptionBudget',
      'PodDisruptionBudget',
      'ScaledObject',
      'Service',
      'Service',
      'StatefulSet',
    ]);
    for (const { file, body } of all) {
      expect({ file, kind: body['kind'], problems: manifestProblems(body) }).toEqual({
        file,
        kind: body['kind'],
        problems: [],
      });
    }
  });

  it('fails a misspelled field, a wrong type, a missing required field and an unknown kind', () => {
    const workers = structuredClone(find('Deployment', 'cluster-serving-worker'));
    const misspelled = structuredClone(workers);
    (at(misspelled, 'spec') as Record<string, unknown>)['replica'] = 2;
    expect(manifestProblems(misspelled)).toEqual(['/spec/replica: unknown field']);

    const deep = structuredClone(workers);
    const probe = at(deep, 'spec', 'template', 'spec', 'containers', 0, 'readinessProbe') as Record<
      string,
      unknown
    >;
    probe['periodSecond'] = 5;
    expect(manifestProblems(deep)).toEqual([
      '/spec/template/spec/containers/0/readinessProbe/periodSecond: unknown field',
    ]);

    const wrongType = structuredClone(workers);
    (at(wrongType, 'spec') as Record<string, unknown>)['replicas'] = 'two';
    expect(manifestProblems(wrongType).join('\n')).toMatch(/replicas must be integer/);

    const scaler = structuredClone(find('ScaledObject', 'cluster-serving-worker'));
    (at(scaler, 'spec') as Record<string, unknown>)['maxReplicaCont'] = 3;
    expect(manifestProblems(scaler)).toEqual(['/spec/maxReplicaCont: unknown field']);
    const noTarget = structuredClone(scaler);
    delete (at(noTarget, 'spec') as Record<string, unknown>)['scaleTargetRef'];
    expect(manifestProblems(noTarget).join('\n')).toMatch(/scaleTargetRef/);

    expect(manifestProblems({ apiVersion: 'v1', kind: 'Pood' })).toEqual([
      'no schema for apiVersion v1 kind Pood',
    ]);
  });

  it('scales the workers on the lag of the job stream consumer group, from the config the pods mount', async () => {
    const configMap = find('ConfigMap', 'cluster-serving-config');
    // The image holds the model at /models; here the same config with a local model.
    const dir = await mkdtemp(join(tmpdir(), 'cs-k8s-config-'));
    const model = await writeModel(dir, 'mlp');
    const text = String(at(configMap, 'data', 'config.yaml')).replace(
      'modelPath: /models',
      `modelPath: ${model}`,
    );
    await writeFile(join(dir, 'config.yaml'), text);
    const loaded = (() => {
      try {
        return loadConfig(join(dir, 'config.yaml'));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    })();
    const { config } = loaded;

    const trigger = at(find('ScaledObject', 'cluster-serving-worker'), 'spec', 'triggers', 0) as {
      type: string;
      metadata: Record<string, string>;
    };
    expect(trigger.type).toBe('redis-streams');
    expect(trigger.metadata['stream']).toBe(config.jobName);
    expect(trigger.metadata['consumerGroup']).toBe('serving');
    expect(Number(trigger.metadata['lagCount'])).toBeGreaterThan(0);
    expect(trigger.metadata['pendingEntriesCount']).toBeUndefined();
    expect(config.redisUrl).toContain('cluster-serving-redis:6379');

    const worker = find('Deployment', 'cluster-serving-worker');
    expect(at(worker, 'spec', 'template', 'spec', 'containers', 0, 'args')).toEqual([
      'worker',
      '-c',
      '/etc/cluster-serving/config.yaml',
      '--health-port',
      '8090',
    ]);
    expect(at(worker, 'spec', 'template', 'spec', 'containers', 0, 'readinessProbe', 'httpGet', 'path')).toBe(
      '/readyz',
    );
    expect(at(worker, 'spec', 'template', 'spec', 'securityContext', 'runAsNonRoot')).toBe(true);
    const frontend = find('Deployment', 'cluster-serving-frontend');
    expect(at(frontend, 'spec', 'template', 'spec', 'containers', 0, 'args')).toEqual([
      'http',
      '-c',
      '/etc/cluster-serving/config.yaml',
    ]);
  });
});
