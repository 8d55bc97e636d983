import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

/** Where the pinned botocore models live: `<service>/<api-version>/service-2.json.gz`. */
export const MODELS_DIR = join(__dirname, '..', '..', 'aws-api-models');

/** A member of a structure: the shape it targets plus member-level traits. */
export interface MemberRef {
  shape: string;
  idempotencyToken?: boolean;
  jsonvalue?: boolean;
  streaming?: boolean;
  deprecated?: boolean;
}

/** One entry of a botocore model's `shapes`, with the traits the validator reads. */
export interface Shape {
  type:
    | 'structure'
    | 'list'
    | 'map'
    | 'string'
    | 'integer'
    | 'long'
    | 'float'
    | 'double'
    | 'boolean'
    | 'timestamp'
    | 'blob';
  members?: Record<string, MemberRef>;
  required?: string[];
  union?: boolean;
  member?: MemberRef;
  key?: MemberRef;
  value?: MemberRef;
  enum?: string[];
  pattern?: string;
  min?: number;
  max?: number;
  sensitive?: boolean;
  streaming?: boolean;
}

export interface Operation {
  name: string;
  input?: { shape: string };
  output?: { shape: string };
}

/** A botocore `service-2.json`, as published in the botocore wheel. */
export interface ServiceModel {
  /** The botocore service name (the folder under test/aws-api-models). */
  service: string;
  /** The API version folder the model was loaded from. */
  version: string;
  metadata: { apiVersion: string; protocol: string; serviceId: string; endpointPrefix: string };
  operations: Record<string, Operation>;
  shapes: Record<string, Omit<Shape, 'type'> & { type: string }>;
}

const models = new Map<string, ServiceModel>();

/** The botocore service names present under test/aws-api-models. */
export function pinnedServices(): string[] {
  return readdirSync(MODELS_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
}

/**
 * Loads test/aws-api-models/<service>/<latest version>/service-2.json.gz once and caches it.
 * `service` is the botocore name, e.g. 'sagemaker', 's3', 'sns'. API versions are dates
 * (YYYY-MM-DD), so the latest is the greatest name.
 */
export function loadServiceModel(service: string): ServiceModel {
  const cached = models.get(service);
  if (cached) return cached;
  const dir = join(MODELS_DIR, service);
  if (!/^[a-z0-9-]+$/.test(service) || !existsSync(dir)) {
    throw new Error(
      `no pinned API model for service "${service}"; the pinned services are: ${pinnedServices().join(', ')} ` +
        '(see test/aws-api-models/README.md to add one)',
    );
  }
  const versions = readdirSync(dir)
    .filter((v) => existsSync(join(dir, v, 'service-2.json.gz')))
    .sort();
  const version = versions[versions.length - 1];
  if (!version) throw new Error(`${dir} holds no <api-version>/service-2.json.gz`);
  const raw = JSON.parse(
    gunzipSync(readFileSync(join(dir, version, 'service-2.json.gz'))).toString('utf8'),
  ) as Omit<ServiceModel, 'service' | 'version'>;
  const model: ServiceModel = { ...raw, service, version };
  models.set(service, model);
  return model;
}
