/**
 * The click endpoint's data-quality monitoring across the languages it spans: the design names the
 * monitored features, the Python preprocessor makes them of the requests the scoring function sends,
 * and only production deploys the schedule and the pipeline's baselining.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { adClick } from '../../../../lib/designs/ad-click/design';
import { artistRecommender } from '../../../../lib/designs/artist-recommender/design';
import { toModelRequest } from '../../../../lib/designs/ad-click/contracts';
import { MlStack } from '../../../../lib/platform/stacks/ml-stack';
import { PipelineStack } from '../../../../lib/platform/stacks/pipeline-stack';
import { synthesizeApp } from '../../../support/asl';
import { scoreRequest } from '../support/scoring-fixtures';

const ROOT = path.join(__dirname, '..', '..', '..', '..');

/** Runs Python with the model package on its path; `script` reads JSON from stdin and prints JSON. */
function python(script: string, input: unknown): unknown {
  const run = spawnSync(path.join(ROOT, 'sagemaker', 'bin', 'py'), ['-c', script], {
    input: JSON.stringify(input),
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (run.status !== 0) throw new Error(`python failed (${run.status}): ${run.stderr}`);
  return JSON.parse(run.stdout);
}

const monitoring = adClick.model.dataQualityMonitoring!;

test('the design monitors exactly the fields its preprocessor emits', () => {
  const fields = python(
    'import json; from ad_click.monitoring_record import MONITORED_FIELDS; print(json.dumps(MONITORED_FIELDS))',
    null,
  );
  expect(fields).toEqual(monitoring.features);
  expect(path.resolve(monitoring.recordPreprocessor)).toBe(
    path.join(ROOT, 'sagemaker', 'ad_click', 'monitoring_record.py'),
  );
});

test('a request the scoring function sends becomes one row of the monitored features per candidate', () => {
  const request = toModelRequest(scoreRequest(3), { age_group: '25-34', country: 'US' });
  const rows = python(
    'import json, sys, types; from ad_click.monitoring_record import preprocess_handler\n' +
      'body = sys.stdin.read()\n' +
      'record = types.SimpleNamespace(endpoint_input=types.SimpleNamespace(data=body, encoding="JSON"))\n' +
      'print(json.dumps(preprocess_handler(record)))',
    request,
  ) as Record<string, string>[];
  expect(rows).toHaveLength(3);
  for (const [index, row] of rows.entries()) {
    expect(Object.keys(row)).toEqual(monitoring.features);
    expect(row).toMatchObject({
      age_group: '25-34',
      country: 'US',
      device: 'mobile',
      hour_of_day: '13',
      ad_category: request.candidates[index].ad_category,
    });
  }
});

describe.each([
  ['production', 1],
  ['sandbox', 0],
] as const)('the %s profile', (profile, schedules) => {
  const app = synthesizeApp(profile, 'ad-click');

  test(`deploys ${schedules} data-quality schedule(s), and the baselining states with it`, () => {
    const ml = app.stack(MlStack);
    expect(Boolean(ml.dataQualityMonitor)).toBe(schedules === 1);
    const types = app.templates.flatMap((t) => Object.values(t.template.Resources ?? {}).map((r) => r.Type));
    expect(types.filter((type) => type === 'AWS::SageMaker::MonitoringSchedule')).toHaveLength(schedules);
    const machineTemplate = JSON.stringify(
      app.templates.find((t) => t.stackName === app.stack(PipelineStack).stackName)?.template,
    );
    expect(machineTemplate.includes('SuggestBaseline')).toBe(schedules === 1);
    expect(machineTemplate.includes('createProcessingJob.sync')).toBe(schedules === 1);
  });
});

test('the artist recommender is not monitored: its requests are a user id and a list size', () => {
  expect(artistRecommender.model.dataQualityMonitoring).toBeUndefined();
});
