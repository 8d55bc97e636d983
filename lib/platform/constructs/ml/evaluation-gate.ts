import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import {
  gateEnvironment,
  policyProblems,
  type GatePolicy,
} from '../../../../lambda/platform/evaluation-gate/policy';
import { BundledFunction } from '../compute/bundled-function';
import { ARTIFACT_PREFIXES } from './artifact-layout';

export interface EvaluationGateProps {
  /** What the gate compares, which way is better, and by how much a candidate must win. */
  readonly policy: GatePolicy;
  /** The metrics a training run reports: the gate's metric and its baseline must be among them. */
  readonly metricNames: readonly string[];
  /**
   * The artefacts bucket, laid out as `artifact-layout.ts` says: the gate reads the candidates'
   * metrics under `models/` and the champion's record under `champion/`, nothing else.
   */
  readonly artifacts: s3.IBucket;
  /**
   * The key the bucket encrypts with; the gate may decrypt with it.
   * @default - the bucket's own `encryptionKey`, or none where it has none
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * The network to run in, reaching S3 through its endpoint.
   * @default - outside any VPC
   */
  readonly network?: { readonly vpc: ec2.IVpc; readonly subnets: ec2.SubnetSelection };
  /** @default - one week */
  readonly logRetention?: logs.RetentionDays;
  /** @default RemovalPolicy.RETAIN */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/**
 * The function that decides whether a trained candidate replaces the champion
 * (`lambda/platform/evaluation-gate`), configured with the design's policy through its environment.
 * A policy the gate cannot run with, or one that judges a metric the runs do not report, fails the
 * synth here, with every problem named, rather than a training run later.
 */
export class EvaluationGate extends BundledFunction {
  constructor(scope: Construct, id: string, props: EvaluationGateProps) {
    const problems = evaluationGateProblems(props);
    if (problems.length > 0) {
      throw new Error(`Invalid EvaluationGate ${id}:\n  - ${problems.join('\n  - ')}`);
    }
    super(scope, id, {
      handlerFolder: 'platform/evaluation-gate',
      description: 'Decides whether a trained candidate replaces the champion',
      network: props.network,
      timeout: Duration.minutes(2),
      environment: gateEnvironment(props.policy),
      logRetention: props.logRetention,
      logRemovalPolicy: props.logRemovalPolicy,
    });
    props.artifacts.grantRead(this.function, `${ARTIFACT_PREFIXES.models}*`);
    props.artifacts.grantRead(this.function, `${ARTIFACT_PREFIXES.champion}*`);
    (props.encryptionKey ?? props.artifacts.encryptionKey)?.grantDecrypt(this.function);
  }
}

/** Every problem of `props`, each naming its field. */
export function evaluationGateProblems(props: EvaluationGateProps): string[] {
  const problems = policyProblems(props.policy).map((problem) => `policy.${problem}`);
  for (const name of new Set([props.policy.metric, props.policy.baselineMetric])) {
    if (!props.metricNames.includes(name)) {
      problems.push(`metricNames: must include ${name}, which the gate judges`);
    }
  }
  return problems;
}
