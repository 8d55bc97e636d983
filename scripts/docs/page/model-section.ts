import * as path from 'node:path';
import { bullets, code, document } from './markdown';
import { perProfile, type PageInput } from './page-input';

const ROOT = path.join(__dirname, '..', '..', '..');
const repoPath = (file: string) => code(path.relative(ROOT, file).split(path.sep).join('/'));

/** Step 3: the model code the pipeline ships and what it reports. */
export function modelSection(input: PageInput): string {
  const model = input.design.model;
  const hyperparameters = Object.entries(model.hyperparameters)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => code(`--${name} ${value}`));
  const tuning = model.tuning ?? { mode: 'in-job' as const };
  const monitored = model.dataQualityMonitoring;
  return document([
    '## 3 Model',
    bullets([
      `Entry point: ${repoPath(path.join(model.sourceDirectory, model.entryPoint))}, shipped in script mode with the packages ${model.packages.map(code).join(', ')}.`,
      `Inference code: ${repoPath(model.inferenceCode)}, inside every model archive.`,
      `Hyperparameters passed: ${hyperparameters.length > 0 ? hyperparameters.join(', ') : "none (the script's defaults)"}.`,
      `Metrics it reports: ${model.metricNames.map(code).join(', ')}.`,
      `Hyperparameter search: ${
        tuning.mode === 'in-job'
          ? 'inside the training job, within its time budget'
          : `a SageMaker tuning job (${tuning.strategy}, ${tuning.maxJobs} jobs, ${tuning.maxParallelJobs} at once) where the profile allows it: ${perProfile(input, (view) => (view.config.profile.training.automaticModelTuning ? 'yes' : 'no'))}`
      }.`,
      `Scheduled retrains ${model.warmStart ? "start from the champion's model" : 'train from scratch'}.`,
      `Before the first training run the endpoint serves the design's bootstrap model.`,
      monitored
        ? `Data-quality monitoring of the endpoint's traffic watches ${monitored.features.map(code).join(', ')}.`
        : "The endpoint's traffic is not monitored for data drift.",
    ]),
  ]).trimEnd();
}
