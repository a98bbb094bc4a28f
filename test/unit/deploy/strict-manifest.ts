import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Service } from 'kubernetes-models/v1';

interface Validatable {
  validate(): void;
}

type ModelClass = abstract new (data?: never) => Validatable;

/** The kinds our manifests use, by `apiVersion/kind`. Anything else is refused, not skipped. */
const MODELS: Record<string, ModelClass> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'keda.sh/v1alpha1/ScaledObject': ScaledObject,
};

// The document is untrusted YAML: the model only copies it, validate() judges it.
function instantiate(Model: ModelClass, document: object): Validatable {
  const Concrete = Model as unknown as new (data: object) => Validatable;
  return new Concrete(document);
}

interface Visit {
  readonly path: string;
  readonly read: Set<string>;
  enumerated: boolean;
}

/**
 * Validates one manifest document against the Kubernetes (and KEDA) schemas of
 * kubernetes-models, strictly, as `kubectl apply --validate=strict` would: a wrong type or a
 * missing required field fails the schema, and so does a field the schema does not know.
 *
 * kubernetes-models' compiled validators check types but let unknown fields through. To catch
 * a misspelled field, the document is handed to the validator behind proxies that record which
 * fields it reads: a validator reads every field its schema declares, and enumerates the keys
 * of free-form maps (labels, ConfigMap data, KEDA trigger metadata). A key of an object the
 * validator looked into that it neither read nor enumerated is unknown to the schema.
 * Returns the problems found; empty when the document is valid.
 */
export function manifestProblems(document: unknown): string[] {
  if (document === null || typeof document !== 'object' || Array.isArray(document)) {
    return ['a manifest document must be a mapping'];
  }
  const { apiVersion, kind } = document as { apiVersion?: unknown; kind?: unknown };
  const Model = MODELS[`${String(apiVersion)}/${String(kind)}`];
  if (Model === undefined) return [`no schema for apiVersion ${String(apiVersion)} kind ${String(kind)}`];
  const model = instantiate(Model, document);
  const visits = new Map<object, Visit>();
  try {
    model.validate.call(track(model, '', visits));
  } catch (error) {
    return [error instanceof Error ? error.message : String(error)];
  }
  const problems: string[] = [];
  for (const [target, visit] of visits) {
    if (visit.enumerated || Array.isArray(target)) continue;
    for (const key of Object.keys(target)) {
      if (!visit.read.has(key)) problems.push(`${visit.path}/${key}: unknown field`);
    }
  }
  return problems;
}

function track<T extends object>(target: T, path: string, visits: Map<object, Visit>): T {
  let visit = visits.get(target);
  if (visit === undefined) {
    visit = { path, read: new Set(), enumerated: false };
    visits.set(target, visit);
  }
  const seen = visit;
  return new Proxy(target, {
    get(object, key, receiver) {
      const value: unknown = Reflect.get(object, key, receiver);
      if (typeof key !== 'string') return value;
      seen.read.add(key);
      return value !== null && typeof value === 'object' ? track(value, `${path}/${key}`, visits) : value;
    },
    has(object, key) {
      if (typeof key === 'string') seen.read.add(key);
      return Reflect.has(object, key);
    },
    ownKeys(object) {
      seen.enumerated = true;
      return Reflect.ownKeys(object);
    },
  });
}
