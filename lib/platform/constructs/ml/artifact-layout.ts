/**
 * Where the ML lifecycle keeps its objects in the artefacts bucket. IAM grants are scoped to these
 * prefixes: the ETL writes `training/`, the training role reads `training/` and writes `models/` and
 * `checkpoints/`, models read `models/`, endpoints write `data-capture/`.
 */
export const ARTIFACT_PREFIXES = {
  /** The training snapshot's train channel, written by the design's ETL. */
  trainChannel: 'training/current/train/',
  /** The training snapshot's validation channel, events after the cutoff. */
  validationChannel: 'training/current/validation/',
  /** Training job outputs: `<job>/output/model.tar.gz` and `<job>/output/output.tar.gz`. */
  models: 'models/',
  /** Spot training checkpoints, one folder per job. */
  checkpoints: 'checkpoints/',
  /** Requests and responses captured at the endpoint. */
  dataCapture: 'data-capture/',
  /** The metrics of the model currently serving, the bar a candidate must clear. */
  champion: 'champion/',
  /** Dated training snapshots written by the ETL; the latest is copied to the channels above. */
  snapshots: 'training/snapshots/',
  /** The Feature Store's offline store. */
  featureStore: 'feature-store/',
  /** Per-object results of the ETL's distributed map. */
  etlResults: 'etl-results/',
  /**
   * The promoted run's baseline sample, extracted from its `output.tar.gz` by the pipeline: the
   * rows the data-quality monitor compares the endpoint's traffic with.
   */
  monitoringBaselineDataset: 'monitoring/baseline-dataset/',
  /** `constraints.json` and `statistics.json` of that sample, which every monitoring run reads. */
  monitoringBaseline: 'monitoring/baseline/',
  /** The monitoring runs' reports (statistics, violations), one folder per run. */
  monitoringReports: 'monitoring/reports/',
} as const;

/**
 * Inside a job's `output.tar.gz` (what the entry point writes to `SM_OUTPUT_DATA_DIR`), the files
 * the platform reads: the metrics the evaluation gate judges. A design adds its own beside them.
 */
export const TRAINING_OUTPUT_FILES = {
  metrics: 'metrics.json',
  /**
   * The folder of the baseline sample, for designs whose endpoint is monitored
   * (`sagemaker/common/monitoring_baseline.py`, `BASELINE_DIR`).
   */
  monitoringBaselineDir: 'monitoring-baseline/',
} as const;

/**
 * Inside `champion/`, beside the champion's metrics: where the promoted run's model lives
 * (`{"trainingJob": ..., "modelDataUrl": "s3://.../model.tar.gz"}`), written when a promotion is
 * recorded, read by the next run to warm-start from it.
 */
export const CHAMPION_MODEL_POINTER = 'model.json';
