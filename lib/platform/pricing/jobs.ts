/**
 * The SageMaker jobs a state machine starts, read from its synthesized definition (Amazon States
 * Language): training, processing, tuning and transform tasks, with the instances they ask for and
 * the longest they may run. What a scheduled run can cost at most is the sum of those.
 */
import { flattenString, numberProperty, objectProperty, arrayProperty } from './templates';

export interface SageMakerJob {
  /** The state's name, e.g. `Train`. */
  readonly state: string;
  readonly kind: 'training' | 'processing' | 'tuning' | 'transform';
  readonly instanceType: string;
  /** Instances at once, times the tuning job's training jobs for a tuning job. */
  readonly instances: number;
  /** The stopping condition's MaxRuntimeInSeconds in hours (SageMaker's default: 24 h). */
  readonly maxHours: number;
  readonly spot: boolean;
}

export interface DefinitionJobs {
  readonly jobs: readonly SageMakerJob[];
  /** What could not be read (an instance type taken from the input, say), one line each. */
  readonly problems: readonly string[];
}

const DEFAULT_MAX_RUNTIME_S = 86_400;

/** The SageMaker jobs of a state machine's `DefinitionString` (or `Definition`). */
export function definitionJobs(definition: unknown): DefinitionJobs {
  let parsed: unknown;
  try {
    parsed =
      typeof definition === 'object' &&
      definition !== null &&
      !('Fn::Join' in definition) &&
      !('Fn::Sub' in definition)
        ? definition
        : JSON.parse(flattenString(definition));
  } catch (error) {
    return {
      jobs: [],
      problems: [`the definition is not JSON once its references are flattened: ${(error as Error).message}`],
    };
  }
  const jobs: SageMakerJob[] = [];
  const problems: string[] = [];
  walk(objectProperty(objectProperty(parsed).States), jobs, problems);
  return { jobs, problems };
}

function walk(states: Record<string, unknown>, jobs: SageMakerJob[], problems: string[]): void {
  for (const [name, value] of Object.entries(states)) {
    const state = objectProperty(value);
    for (const branch of arrayProperty(state.Branches))
      walk(objectProperty(objectProperty(branch).States), jobs, problems);
    for (const key of ['Iterator', 'ItemProcessor']) {
      if (state[key]) walk(objectProperty(objectProperty(state[key]).States), jobs, problems);
    }
    const resource = typeof state.Resource === 'string' ? state.Resource : '';
    const match =
      /:states:::sagemaker:create(TrainingJob|ProcessingJob|HyperParameterTuningJob|TransformJob)/.exec(
        resource,
      );
    if (!match) continue;
    const parameters = objectProperty(state.Parameters ?? state.Arguments);
    const job = readJob(name, match[1], parameters);
    if (typeof job === 'string') problems.push(`${name}: ${job}`);
    else jobs.push(job);
  }
}

function readJob(state: string, api: string, p: Record<string, unknown>): SageMakerJob | string {
  const maxHours = (stopping: unknown) =>
    (numberProperty(objectProperty(stopping).MaxRuntimeInSeconds) ?? DEFAULT_MAX_RUNTIME_S) / 3600;
  const instances = (
    config: Record<string, unknown>,
    kind: SageMakerJob['kind'],
    extra: Partial<SageMakerJob> = {},
  ) => {
    const instanceType = config.InstanceType;
    const count = numberProperty(config.InstanceCount);
    if (typeof instanceType !== 'string' || count === undefined) {
      return `the ${kind} job's instance type or count is not in the definition (taken from the input?)`;
    }
    return {
      state,
      kind,
      instanceType,
      instances: count,
      maxHours: 24,
      spot: false,
      ...extra,
    } satisfies SageMakerJob;
  };
  switch (api) {
    case 'TrainingJob':
      return instances(objectProperty(p.ResourceConfig), 'training', {
        maxHours: maxHours(p.StoppingCondition),
        spot: p.EnableManagedSpotTraining === true,
      });
    case 'ProcessingJob':
      return instances(objectProperty(objectProperty(p.ProcessingResources).ClusterConfig), 'processing', {
        maxHours: maxHours(p.StoppingCondition),
      });
    case 'HyperParameterTuningJob': {
      const definition = objectProperty(p.TrainingJobDefinition);
      const limits = objectProperty(objectProperty(p.HyperParameterTuningJobConfig).ResourceLimits);
      const trainingJobs = numberProperty(limits.MaxNumberOfTrainingJobs);
      if (trainingJobs === undefined)
        return 'the tuning job has no MaxNumberOfTrainingJobs in the definition';
      const job = instances(objectProperty(definition.ResourceConfig), 'tuning', {
        maxHours: maxHours(definition.StoppingCondition),
        spot: definition.EnableManagedSpotTraining === true,
      });
      return typeof job === 'string' ? job : { ...job, instances: job.instances * trainingJobs };
    }
    default:
      // A transform job has no stopping condition: how long it runs depends on its input.
      return 'a transform job runs as long as its input needs; no upper bound in the definition';
  }
}
