import { finding, type BlueprintRule, type Finding } from './core/rule';
import { UNKNOWN } from './core/templates';
import { describeRequest as describe, sagemakerRequests } from './core/sagemaker-requests';

type Json = Record<string, unknown>;
const objectAt = (value: unknown): Json => (value && typeof value === 'object' ? (value as Json) : {});
const listAt = (value: unknown): Json[] => (Array.isArray(value) ? value.map(objectAt) : []);

/**
 * What CreateHyperParameterTuningJob rejects or silently mis-tunes, in the members a config sets:
 *
 * - https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ResourceLimits.html: parallel
 *   trials beyond the job's total never run (MaxParallelTrainingJobs <= MaxNumberOfTrainingJobs).
 * - https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ParameterRanges.html: "the sum of
 *   the number of hyperparameters for all the ranges can't exceed" 30; a categorical range holds at
 *   most 30 values (API_CategoricalParameterRange.html).
 * - https://docs.aws.amazon.com/sagemaker/latest/dg/automatic-model-tuning-define-ranges.html:
 *   "Logarithmic scaling works only for ranges that have only values greater than 0"; a
 *   hyperparameter is either static or tuned.
 * - https://docs.aws.amazon.com/sagemaker/latest/dg/automatic-model-tuning-define-metrics-variables.html:
 *   the objective metric is one of the job definition's metric definitions.
 * - https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_StoppingCondition.html: with
 *   managed spot training, MaxWaitTimeInSeconds is set and at least MaxRuntimeInSeconds.
 *
 * Applies to the CreateHyperParameterTuningJob requests of state machines; members given as
 * JSONPaths are known only at run time and pass.
 */
export const HyperparameterTuningLimits: BlueprintRule = {
  id: 'hyperparameter-tuning-limits',
  description:
    'A tuning job runs no more trials at once than in all, searches at most 30 hyperparameters (30 values per categorical one), scales logarithmically only above 0, tunes no static hyperparameter, optimizes a defined metric, and waits for spot capacity at least as long as a trial runs.',
  documentation:
    'https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateHyperParameterTuningJob.html',
  check(set) {
    const findings: Finding[] = [];
    for (const request of sagemakerRequests(set, 'CreateHyperParameterTuningJob')) {
      const what = describe(request);
      const problem = (member: string, message: string) =>
        findings.push(finding(request.ref, `${request.location}/${member}`, `${what}: ${message}`));
      const config = objectAt(request.params.HyperParameterTuningJobConfig);
      const definition = objectAt(request.params.TrainingJobDefinition);
      const limits = objectAt(config.ResourceLimits);
      const { MaxNumberOfTrainingJobs: total, MaxParallelTrainingJobs: parallel } = limits;
      if (typeof total === 'number' && typeof parallel === 'number' && parallel > total) {
        problem(
          'HyperParameterTuningJobConfig/ResourceLimits/MaxParallelTrainingJobs',
          `${parallel} trials at once exceed the ${total} the job runs in all`,
        );
      }
      const ranges = objectAt(config.ParameterRanges ?? definition.HyperParameterRanges);
      const numeric = [...listAt(ranges.ContinuousParameterRanges), ...listAt(ranges.IntegerParameterRanges)];
      const categorical = listAt(ranges.CategoricalParameterRanges);
      const all = [...numeric, ...categorical];
      if (all.length > 30) {
        problem(
          'HyperParameterTuningJobConfig/ParameterRanges',
          `searches ${all.length} hyperparameters; at most 30`,
        );
      }
      for (const range of categorical) {
        if (Array.isArray(range.Values) && range.Values.length > 30) {
          problem(
            'HyperParameterTuningJobConfig/ParameterRanges',
            `${String(range.Name)} has ${range.Values.length} values; at most 30`,
          );
        }
      }
      for (const range of numeric) {
        const logarithmic = range.ScalingType === 'Logarithmic' || range.ScalingType === 'ReverseLogarithmic';
        if (logarithmic && range.MinValue !== UNKNOWN && !(Number(range.MinValue) > 0)) {
          problem(
            'HyperParameterTuningJobConfig/ParameterRanges',
            `${String(range.Name)} scales ${String(range.ScalingType)} from ${String(range.MinValue)}: only above 0`,
          );
        }
      }
      const statics = objectAt(definition.StaticHyperParameters);
      for (const range of all) {
        if (typeof range.Name === 'string' && range.Name in statics) {
          problem('TrainingJobDefinition/StaticHyperParameters', `${range.Name} is both static and tuned`);
        }
      }
      const objective = objectAt(config.HyperParameterTuningJobObjective).MetricName;
      const metrics = listAt(objectAt(definition.AlgorithmSpecification).MetricDefinitions).map(
        (m) => m.Name,
      );
      if (typeof objective === 'string' && !metrics.includes(UNKNOWN) && !metrics.includes(objective)) {
        problem(
          'HyperParameterTuningJobConfig/HyperParameterTuningJobObjective/MetricName',
          `objective ${objective} is not among the metric definitions (${metrics.join(', ') || 'none'})`,
        );
      }
      const stopping = objectAt(definition.StoppingCondition);
      if (definition.EnableManagedSpotTraining === true) {
        const { MaxWaitTimeInSeconds: wait, MaxRuntimeInSeconds: runtime } = stopping;
        if (
          wait === undefined ||
          (typeof wait === 'number' && typeof runtime === 'number' && wait < runtime)
        ) {
          problem(
            'TrainingJobDefinition/StoppingCondition',
            'spot trials need MaxWaitTimeInSeconds of at least MaxRuntimeInSeconds',
          );
        }
      }
    }
    return findings;
  },
};
