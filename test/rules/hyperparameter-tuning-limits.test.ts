/* eslint-disable @typescript-eslint/no-explicit-any -- requests are free JSON, changed member by member */
import { HyperparameterTuningLimits } from '../../lib/platform/rules/hyperparameter-tuning-limits';
import { findings, messages, stack, stateMachine, tasks } from './fixtures';

const TUNE = 'arn:aws:states:::sagemaker:createHyperParameterTuningJob.sync';

/** A tuning request as the pipeline builds one, with `change` applied. */
function tuning(change: (request: Record<string, any>) => void = () => undefined) {
  const request: Record<string, any> = {
    'HyperParameterTuningJobName.$': '$.tuning.name',
    HyperParameterTuningJobConfig: {
      Strategy: 'Bayesian',
      HyperParameterTuningJobObjective: { Type: 'Maximize', MetricName: 'ndcg_at_10' },
      ResourceLimits: { MaxNumberOfTrainingJobs: 6, MaxParallelTrainingJobs: 2 },
      ParameterRanges: {
        ContinuousParameterRanges: [
          { Name: 'reg', MinValue: '3', MaxValue: '300', ScalingType: 'Logarithmic' },
        ],
        CategoricalParameterRanges: [{ Name: 'weighting', Values: ['bm25', 'log'] }],
      },
    },
    TrainingJobDefinition: {
      StaticHyperParameters: { k: '50', tune: 'false' },
      AlgorithmSpecification: {
        TrainingInputMode: 'File',
        MetricDefinitions: [{ Name: 'ndcg_at_10', Regex: 'metric: ndcg_at_10=([-+0-9.eE]+)' }],
      },
      StoppingCondition: { MaxRuntimeInSeconds: 3600 },
      EnableManagedSpotTraining: false,
    },
  };
  change(request);
  return stack('p', { Machine: stateMachine(tasks({ Tune: [TUNE, request] })) });
}

describe('hyperparameter-tuning-limits', () => {
  test('compliant: the pipeline’s tuning request', () => {
    expect(findings(HyperparameterTuningLimits, tuning())).toEqual([]);
  });

  test('non-compliant: more trials at once than in all', () => {
    const bad = tuning((r) => (r.HyperParameterTuningJobConfig.ResourceLimits.MaxParallelTrainingJobs = 8));
    expect(messages(HyperparameterTuningLimits, bad)).toEqual([
      expect.stringContaining('8 trials at once exceed the 6 the job runs in all'),
    ]);
  });

  test('non-compliant: a log scale from 0, and a tuned static hyperparameter', () => {
    const bad = tuning((r) => {
      r.HyperParameterTuningJobConfig.ParameterRanges.ContinuousParameterRanges[0].MinValue = '0';
      r.TrainingJobDefinition.StaticHyperParameters.weighting = 'bm25';
    });
    expect(messages(HyperparameterTuningLimits, bad)).toEqual([
      expect.stringContaining('reg scales Logarithmic from 0: only above 0'),
      expect.stringContaining('weighting is both static and tuned'),
    ]);
  });

  test('non-compliant: 31 hyperparameters, and 31 values of one', () => {
    const bad = tuning((r) => {
      const ranges = r.HyperParameterTuningJobConfig.ParameterRanges;
      ranges.CategoricalParameterRanges[0].Values = Array.from({ length: 31 }, (_, i) => `v${i}`);
      ranges.IntegerParameterRanges = Array.from({ length: 29 }, (_, i) => ({
        Name: `p${i}`,
        MinValue: '1',
        MaxValue: '9',
      }));
    });
    expect(messages(HyperparameterTuningLimits, bad)).toEqual([
      expect.stringContaining('searches 31 hyperparameters; at most 30'),
      expect.stringContaining('weighting has 31 values; at most 30'),
    ]);
  });

  test('non-compliant: an objective no metric definition reads, and spot trials without a wait', () => {
    const bad = tuning((r) => {
      r.HyperParameterTuningJobConfig.HyperParameterTuningJobObjective.MetricName = 'recall_at_10';
      r.TrainingJobDefinition.EnableManagedSpotTraining = true;
    });
    expect(messages(HyperparameterTuningLimits, bad)).toEqual([
      expect.stringContaining('objective recall_at_10 is not among the metric definitions (ndcg_at_10)'),
      expect.stringContaining('spot trials need MaxWaitTimeInSeconds of at least MaxRuntimeInSeconds'),
    ]);
  });
});
