import {
  BatchGetRecordCommand,
  type BatchGetRecordIdentifier,
  type FeatureValue,
  type SageMakerFeatureStoreRuntimeClient,
} from '@aws-sdk/client-sagemaker-featurestore-runtime';
import type { z } from 'zod';
import { featureTypes, type FeatureType } from '../../../lib/platform/constructs/data/feature-definitions';
import { withDeadline } from '../shared/deadline';

/**
 * One BatchGetRecord takes at most 100 feature groups, each with at most 100 record identifiers
 * (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_feature_store_BatchGetRecord.html,
 * and the service model's BatchGetRecordIdentifiers and RecordIdentifiers).
 */
export const MAX_GROUPS_PER_READ = 100;
export const MAX_RECORDS_PER_GROUP = 100;

/** Records to read from one feature group, and the schema of the features to read from each. */
export interface RecordQuery<S extends z.ZodObject = z.ZodObject> {
  readonly featureGroupName: string;
  readonly recordIds: readonly string[];
  /** Its fields are the features read; a record that breaks it is counted unusable, not returned. */
  readonly schema: S;
}

type Queries = Readonly<Record<string, RecordQuery>>;

/** The records found, by query and record identifier; a record the store does not hold is absent. */
export interface OnlineRecords<Q extends Queries> {
  readonly records: { readonly [K in keyof Q]: ReadonlyMap<string, z.infer<Q[K]['schema']>> };
  /** Records the store answered with an error, left unprocessed, or that broke their schema. */
  readonly unusable: number;
}

/**
 * Reads records from the online store of several feature groups in one BatchGetRecord, within a
 * deadline. The call is made once: the client's own retry settings (`maxAttempts`) decide whether
 * a throttled or failed call is tried again, inside the same deadline.
 */
export class OnlineRecordReader {
  private readonly types = new WeakMap<z.ZodObject, Readonly<Record<string, FeatureType>>>();

  constructor(
    private readonly client: SageMakerFeatureStoreRuntimeClient,
    private readonly timeoutMs: number,
  ) {}

  async read<Q extends Queries>(queries: Q): Promise<OnlineRecords<Q>> {
    const byGroup = new Map<string, { key: keyof Q; query: RecordQuery }>();
    const records = {} as Record<keyof Q, Map<string, unknown>>;
    const identifiers: BatchGetRecordIdentifier[] = [];
    for (const [key, query] of Object.entries(queries) as [keyof Q & string, RecordQuery][]) {
      records[key] = new Map();
      const group = groupKey(query.featureGroupName);
      if (byGroup.has(group)) throw new Error(`feature group ${query.featureGroupName} is queried twice`);
      byGroup.set(group, { key, query });
      const ids = [...new Set(query.recordIds)];
      if (ids.length === 0) continue;
      if (ids.length > MAX_RECORDS_PER_GROUP) {
        throw new RangeError(`${ids.length} records of ${key}; one read takes ${MAX_RECORDS_PER_GROUP}`);
      }
      identifiers.push({
        FeatureGroupName: query.featureGroupName,
        RecordIdentifiersValueAsString: ids,
        FeatureNames: Object.keys(this.typesOf(query.schema)),
      });
    }
    if (identifiers.length > MAX_GROUPS_PER_READ) {
      throw new RangeError(`${identifiers.length} feature groups; one read takes ${MAX_GROUPS_PER_READ}`);
    }
    if (identifiers.length === 0) return { records, unusable: 0 } as OnlineRecords<Q>;

    const answer = await withDeadline('feature store', this.timeoutMs, (abortSignal) =>
      this.client.send(new BatchGetRecordCommand({ Identifiers: identifiers }), { abortSignal }),
    );
    let unusable = (answer.Errors ?? []).length;
    for (const unprocessed of answer.UnprocessedIdentifiers ?? []) {
      unusable += unprocessed.RecordIdentifiersValueAsString?.length ?? 0;
    }
    for (const found of answer.Records ?? []) {
      const target = byGroup.get(groupKey(found.FeatureGroupName ?? ''));
      const id = found.RecordIdentifierValueAsString;
      const value =
        target && id !== undefined ? this.decode(target.query.schema, found.Record ?? []) : undefined;
      if (target && id !== undefined && value !== undefined) records[target.key].set(id, value);
      else unusable += 1;
    }
    return { records, unusable } as OnlineRecords<Q>;
  }

  private typesOf(schema: z.ZodObject): Readonly<Record<string, FeatureType>> {
    let types = this.types.get(schema);
    if (!types) {
      types = featureTypes(schema);
      this.types.set(schema, types);
    }
    return types;
  }

  /** The record as the schema's types, or undefined when it breaks the schema. */
  private decode(schema: z.ZodObject, features: readonly FeatureValue[]): unknown {
    const types = this.typesOf(schema);
    const value: Record<string, unknown> = {};
    for (const feature of features) {
      const name = feature.FeatureName;
      const raw = feature.ValueAsString;
      if (name === undefined || raw === undefined || !(name in types)) continue;
      value[name] = decodeValue(types[name], raw);
    }
    const parsed = schema.safeParse(value);
    return parsed.success ? parsed.data : undefined;
  }
}

/** Feature Store returns every value as a string; a number that does not read as one stays a string, which the schema refuses. */
function decodeValue(type: FeatureType, raw: string): string | number {
  if (type === 'String') return raw;
  if (type === 'Integral') return /^-?\d{1,16}$/.test(raw) ? Number(raw) : raw;
  const value = raw.trim() === '' ? NaN : Number(raw);
  return Number.isFinite(value) ? value : raw;
}

/**
 * A group named by name or by ARN, as the store may echo either: the name, lower-cased, since
 * SageMaker writes names in lower case in ARNs.
 */
function groupKey(nameOrArn: string): string {
  return nameOrArn.replace(/^arn:[^:]+:sagemaker:[^:]*:\d{12}:feature-group\//, '').toLowerCase();
}
