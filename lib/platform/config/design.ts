import type { GatePolicy } from '../../../lambda/platform/evaluation-gate/policy';
import type { App, Stack } from 'aws-cdk-lib';
import type { AppConfig } from './app-config';
import type { Problems } from './config-error';
import type { FeatureBuild } from './feature-engine';
import type { Requirements } from './requirements';

/** One A/B variant of the model endpoint and the share of users it serves. */
export interface AbVariant {
  /** Production variant name on the endpoint; letters, digits, `_`, `.` and `-`. */
  readonly name: string;
  /** Relative share of users; shares need not sum to 1. */
  readonly weight: number;
}

/**
 * How a design answers a request, each a serving construct of the platform: `cached-ranking`
 * (`constructs/serving/cached-ranking/`) reads a list precomputed per user, the model on a miss;
 * `realtime-scoring` (`constructs/serving/realtime-scoring.ts`) scores the request's candidates.
 */
export const SERVING_PATTERNS = ['cached-ranking', 'realtime-scoring'] as const;
export type ServingPattern = (typeof SERVING_PATTERNS)[number];

/**
 * An ML system design: its requirements, its model, and the composition of its stacks from the
 * platform's. Each design lives in `lib/designs/<id>/` and is registered in `lib/designs/index.ts`.
 */
export interface Design {
  /** Short kebab-case id, picked with `-c design=...`; prefixes stack, run and resource names. */
  readonly id: string;
  /** One line for stack descriptions. */
  readonly summary: string;
  /** How it serves; `npm run new-design` forks the first registered design of a pattern. */
  readonly pattern: ServingPattern;
  readonly requirements: Requirements;
  /** The A/B split of model traffic; the first variant is the champion. */
  readonly abVariants: readonly AbVariant[];
  readonly model: ModelCode;
  /**
   * The design's feature build over its event history, where it has one: the volume it reads decides
   * the engine that runs it (`featureEngineOf`).
   * @default - none: its features reach the online store without a build over the event history
   */
  readonly featureBuild?: FeatureBuild;
  /** Adds a problem for every setting of the design's own that is out of range. */
  collectProblems?(problems: Problems): void;
  /** Creates the design's stacks in `app` (`lib/designs/<id>/stacks.ts`) and returns them. */
  addStacks(app: App, config: AppConfig): readonly Stack[];
}

/** What a candidate must beat to be promoted: the evaluation gate's policy, checked at synth and at run time. */
export type {
  GatePolicy as EvaluationGate,
  MetricDirection,
} from '../../../lambda/platform/evaluation-gate/policy';
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
  readonly gate: GatePolicy;
  /**
   * The model served before the first training run: files of its `model.tar.gz` (path inside the
   * archive -> file on this machine), `code/inference.py` included. Called at synth time, where it
   * may write files; the same content must come back every time, or every synth is a new asset
   * and every deploy a new model.
   */
  readonly bootstrapModel: () => Readonly<Record<string, string>>;
  /**
   * Start each scheduled retrain from the champion's model: the training job gets a `champion`
   * channel with the champion's `model.tar.gz` once a promotion has been recorded.
   * @default false - every run trains from scratch
   */
  readonly warmStart?: boolean;
  /**
   * Who searches the hyperparameters. `in-job`: the entry point does, within its time budget.
   * `sagemaker`: where the profile allows automatic model tuning (production), a SageMaker
   * hyperparameter tuning job searches `searchSpace` with the script's own search turned off, and
   * its best training job is the candidate; elsewhere the entry point searches.
   * @default { mode: 'in-job' }
   */
  readonly tuning?: ModelTuning;
  /**
   * The description of the Model Registry group of approved versions. Fixed once deployed:
   * CloudFormation replaces the group when it changes, which a named group does not survive.
   * @default 'Models that passed the evaluation gate'
   */
  readonly registryDescription?: string;
  /**
   * Data-quality monitoring of the endpoint's traffic against the training snapshot, where the
   * profile turns it on. The training entry point writes the baseline sample
   * (`sagemaker/common/monitoring_baseline.py`) of the rows the preprocessor makes of a request.
   * @default - not monitored: the endpoint's requests carry nothing a distribution check can judge
   */
  readonly dataQualityMonitoring?: {
    /** The record preprocessor (`preprocess_handler`), a standalone Python file on this machine. */
    readonly recordPreprocessor: string;
    /** The fields of the rows it makes, whose drift is measured. */
    readonly features: readonly string[];
  };
  /**
   * What one request costs the model's inference handler, measured at production size by the
   * design's serving-cost benchmark (`sagemaker/<package>/serving_cost.py`). Production's endpoint
   * hardware is chosen from it (`chooseEndpointHardware`).
   * @default - not measured: a profile that hosts on instances refuses the design
   */
  readonly serving?: ServingCost;
}

/**
 * The measured cost of one request through a model's inference handler (input_fn, predict_fn,
 * output_fn) on one thread: one serving worker on one vCPU, as the SageMaker PyTorch container runs
 * one worker per vCPU. The model server's own work per request is not in it.
 */
export interface ServingCost {
  /** Mean milliseconds of one request: what a worker's throughput follows. */
  readonly cpuMsPerRequest: number;
  /** 99th percentile milliseconds of one request: what the latency budget is checked against. */
  readonly p99CpuMsPerRequest: number;
  /** Peak resident memory of one serving worker, in MB: each worker holds its own copy of the model. */
  readonly memoryMb: number;
  /**
   * The same on one GPU, where the handler scores on one.
   * @default - the handler scores on the CPU: a GPU instance runs it on its CPU, one worker per GPU
   */
  readonly gpu?: {
    readonly msPerRequest: number;
    readonly p99MsPerRequest: number;
    /** GPU memory one worker holds, in MB. */
    readonly memoryMb: number;
  };
  /** The command that measured it, options included, so the numbers can be measured again. */
  readonly measuredWith: string;
}

/** How a model's hyperparameters are searched (see `ModelCode.tuning`). */
export type ModelTuning =
  | { readonly mode: 'in-job' }
  | {
      readonly mode: 'sagemaker';
      /** The search space file (`search_space.json`), read at synth time. */
      readonly searchSpace: string;
      /** Training jobs the tuning job may start in all. */
      readonly maxJobs: number;
      /** Training jobs it runs at once; each is one `resources` job of the profile. */
      readonly maxParallelJobs: number;
      /**
       * Bayesian or random search. Grid takes categorical ranges only and Hyperband needs early
       * stopping built into the script, so neither is offered
       * (https://docs.aws.amazon.com/sagemaker/latest/dg/automatic-model-tuning-how-it-works.html).
       */
      readonly strategy: 'Bayesian' | 'Random';
    };
