import type { ScoredItem } from '../../../lambda/artist-recommender/shared/cache-layout';
import type { Requirements } from './requirements';

/** One A/B variant of the model endpoint and the share of users it serves. */
export interface AbVariant {
  /** Production variant name on the endpoint; letters, digits, `_`, `.` and `-`. */
  readonly name: string;
  /** Relative share of users; shares need not sum to 1. */
  readonly weight: number;
}

/** An ML system design: its requirements and the choices the infrastructure needs from it. */
export interface Design {
  /** Short kebab-case id, picked with `-c design=...`; prefixes stack names. */
  readonly id: string;
  /** One line for stack descriptions. */
  readonly summary: string;
  readonly requirements: Requirements;
  /** The A/B split of model traffic; the first variant is the champion. */
  readonly abVariants: readonly AbVariant[];
  readonly model: ModelCode;
  readonly data: DataPolicy;
}

/** How the ETL turns events into features and training snapshots. */
export interface DataPolicy {
  /** Every exported (age group, location) group holds at least this many users. */
  readonly kAnonymity: number;
  /** Half-life of the recency weighting of favourite artists and songs. */
  readonly favouritesHalfLifeDays: number;
  /** The snapshot validates on the last days before the ETL's day; it trains on everything before. */
  readonly validationDays: number;
}

/** The design's model code and how the pipeline trains and judges it. */
export interface ModelCode {
  /** Directory holding the model code's Python packages (`sagemaker/`). */
  readonly sourceDirectory: string;
  /** Its packages shipped in script mode's `sourcedir.tar.gz`: the shared one and the design's. */
  readonly packages: readonly string[];
  /** The design's entry point, relative to `sourceDirectory`; shipped as `train.py` at the bundle's root. */
  readonly entryPoint: string;
  /** Self-contained inference handler shipped in every model as `code/inference.py`. */
  readonly inferenceCode: string;
  /** Passed to the entry point as `--name value`. */
  readonly hyperparameters: Readonly<Record<string, string>>;
  /** Names the entry point prints as `metric: <name>=<value>`; SageMaker charts them. */
  readonly metricNames: readonly string[];
  /** What a candidate must beat to be promoted. */
  readonly gate: {
    readonly metric: string;
    readonly baselineMetric: string;
    readonly minImprovementOverChampion: number;
    readonly minImprovementOverBaseline: number;
  };
  /** Served before the first training run. */
  readonly bootstrapPopularity: readonly ScoredItem[];
}
