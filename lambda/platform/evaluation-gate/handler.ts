import { Logger } from '@aws-lambda-powertools/logger';
import { S3Client } from '@aws-sdk/client-s3';
import { decide, type GatePolicy, type GateResult } from './decide';
import { MetricsUnreadableError, readJsonMember, readJsonObject } from './read-metrics';
import { registryMetadata } from './registry-metadata';

/**
 * The evaluation gate of the training pipeline.
 *
 * Event: `{ bucket, trainingJob, candidateOutputKey, championMetricsKey }`, where
 * `candidateOutputKey` is the training job's `output.tar.gz` (it holds `metrics.json`) and
 * `championMetricsKey` the metrics of the model serving now (absent before the first promotion).
 * Result: `{ decision: 'promote' | 'reject' | 'invalid', reasons, candidate, baseline, champion,
 * candidateMetrics, registryMetadata }`; `registryMetadata` is what the Model Registry accepts as
 * the package's `CustomerMetadataProperties`. The policy comes from the environment: GATE_METRIC, GATE_BASELINE_METRIC,
 * GATE_MIN_IMPROVEMENT_OVER_CHAMPION, GATE_MIN_IMPROVEMENT_OVER_BASELINE.
 */
export interface GateEvent {
  readonly bucket: string;
  /** The candidate's training job, recorded with the package. */
  readonly trainingJob?: string;
  readonly candidateOutputKey: string;
  readonly championMetricsKey: string;
}

export type GateOutput = GateResult & {
  readonly candidateMetrics?: unknown;
  readonly registryMetadata: Record<string, string>;
};

const logger = new Logger();
const s3 = new S3Client({});

export async function evaluate(event: GateEvent, policy: GatePolicy, client: S3Client): Promise<GateOutput> {
  const result = await judge(event, policy, client);
  return { ...result, registryMetadata: registryMetadata(result, event.trainingJob) };
}

async function judge(
  event: GateEvent,
  policy: GatePolicy,
  client: S3Client,
): Promise<GateResult & { readonly candidateMetrics?: unknown }> {
  let candidateMetrics: unknown;
  try {
    candidateMetrics = await readJsonMember(client, event.bucket, event.candidateOutputKey, 'metrics.json');
  } catch (error) {
    if (error instanceof MetricsUnreadableError) return { decision: 'invalid', reasons: [error.message] };
    throw error;
  }
  let championMetrics: unknown;
  try {
    championMetrics = await readJsonObject(client, event.bucket, event.championMetricsKey);
  } catch (error) {
    if (error instanceof MetricsUnreadableError)
      return { decision: 'invalid', reasons: [`champion: ${error.message}`] };
    throw error;
  }
  return { ...decide(candidateMetrics, championMetrics, policy), candidateMetrics };
}

export function policyFromEnvironment(env: NodeJS.ProcessEnv): GatePolicy {
  const number = (name: string): number => {
    const value = Number(env[name]);
    if (env[name] === undefined || env[name] === '' || !Number.isFinite(value) || value < 0) {
      throw new Error(`${name} must be a non-negative number`);
    }
    return value;
  };
  const text = (name: string): string => {
    const value = env[name];
    if (!value) throw new Error(`${name} is required`);
    return value;
  };
  return {
    metric: text('GATE_METRIC'),
    baselineMetric: text('GATE_BASELINE_METRIC'),
    minImprovementOverChampion: number('GATE_MIN_IMPROVEMENT_OVER_CHAMPION'),
    minImprovementOverBaseline: number('GATE_MIN_IMPROVEMENT_OVER_BASELINE'),
  };
}

export const handler = async (event: GateEvent): Promise<GateOutput> => {
  const result = await evaluate(event, policyFromEnvironment(process.env), s3);
  logger.info('evaluation gate', { decision: result.decision, reasons: result.reasons });
  return result;
};
