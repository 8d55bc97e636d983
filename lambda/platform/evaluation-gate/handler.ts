import { Logger } from '@aws-lambda-powertools/logger';
import { S3Client } from '@aws-sdk/client-s3';
import { decide, type GateResult } from './decide';
import { policyFromEnvironment, type GatePolicy } from './policy';
import { MetricsUnreadableError, readJsonMember, readJsonObject } from './read-metrics';
import { registryMetadata } from './registry-metadata';

export { policyFromEnvironment } from './policy';

/**
 * The evaluation gate of the training pipeline.
 *
 * Event: `{ bucket, trainingJob, candidateOutputKey, championMetricsKey }`, where
 * `candidateOutputKey` is the training job's `output.tar.gz` (it holds `metrics.json`) and
 * `championMetricsKey` the metrics of the model serving now (absent before the first promotion).
 * Result: `{ decision: 'promote' | 'reject' | 'invalid', reasons, metric, direction, candidate,
 * baseline, champion, candidateMetrics, registryMetadata }`; `registryMetadata` is what the Model
 * Registry accepts as the package's `CustomerMetadataProperties`. The policy (metric, direction,
 * range, baseline, margins) comes from the environment that `gateEnvironment` (./policy.ts) writes.
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

export const handler = async (event: GateEvent): Promise<GateOutput> => {
  const result = await evaluate(event, policyFromEnvironment(process.env), s3);
  logger.info('evaluation gate', { decision: result.decision, reasons: result.reasons });
  return result;
};
