import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import {
  DAYS_OF_WEEK,
  MAX_CANDIDATES,
  ModelAnswer,
  ModelRequest,
  SEGMENT_CTR_FEATURE_GROUP,
  ScoreRequest,
  USER_FEATURE_GROUP,
  segmentId,
  toModelRequest,
} from '../../../../lib/designs/ad-click/contracts';
import { featureDefinitions } from '../../../../lib/platform/constructs/data/feature-definitions';
import { toApiGatewaySchema } from '../../../../lib/platform/constructs/serving/request-model';
import { seededRandom } from '../../../../scripts/support/seeded-random';
import { draft4Validator, renderedModelSchema } from '../../../support/draft4';
import { badRequests } from '../support/bad-requests';
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

describe('the score request and its API Gateway model', () => {
  const validate = draft4Validator(renderedModelSchema(toApiGatewaySchema(ScoreRequest)));

  test('accepts the contract fixtures', () => {
    for (const request of [scoreRequest(1), scoreRequest(MAX_CANDIDATES), scoreRequest(7, 'user.name-1_x')]) {
      expect(ScoreRequest.safeParse(request).success).toBe(true);
      expect(validate(request)).toBe(true);
    }
    const { device, placement } = scoreRequest(1).context;
    const context = { device, placement };
    expect(validate({ ...scoreRequest(1), context })).toBe(true);
  });

  test('refuses every malformed request zod refuses (2,000 generated JSON bodies)', () => {
    const next = badRequests(seededRandom(20261203));
    let compared = 0;
    for (let i = 0; i < 2000; i++) {
      const { body, isBase64Encoded } = next();
      if (isBase64Encoded || body === null) continue;
      let value: unknown;
      try {
        value = JSON.parse(body);
      } catch {
        continue; // not JSON: API Gateway refuses it before any model
      }
      const zod = ScoreRequest.safeParse(value).success;
      expect(zod).toBe(false);
      if (validate(value) !== zod) throw new Error(`draft 4 model and zod disagree on ${body.slice(0, 300)}`);
      compared += 1;
    }
    expect(compared).toBeGreaterThan(1000);
  });
});

describe('the online features', () => {
  test('derive the user group definitions', () => {
    expect(featureDefinitions(USER_FEATURE_GROUP.schema)).toEqual([
      { name: 'user_id', type: 'String' },
      { name: 'age_group', type: 'String' },
      { name: 'country', type: 'String' },
      { name: 'event_time', type: 'String' },
    ]);
  });

  test('derive the segment CTR group definitions', () => {
    expect(featureDefinitions(SEGMENT_CTR_FEATURE_GROUP.schema)).toEqual([
      { name: 'segment_id', type: 'String' },
      { name: 'ctr', type: 'Fractional' },
      { name: 'impressions', type: 'Integral' },
      { name: 'event_time', type: 'String' },
    ]);
  });

  test('segment ids join a placement and a category, and fit the group', () => {
    expect(segmentId('feed', 'travel')).toBe('feed#travel');
    const record = {
      segment_id: segmentId('video_preroll', 'real_estate'),
      ctr: 0.01,
      impressions: 5,
      event_time: '2026-12-01T00:00:00.000Z',
    };
    expect(SEGMENT_CTR_FEATURE_GROUP.schema.safeParse(record).success).toBe(true);
    expect(
      SEGMENT_CTR_FEATURE_GROUP.schema.safeParse({ ...record, event_time: '2026-12-01 00:00:00' }).success,
    ).toBe(false);
  });
});

describe('the model contract, against the model package (sagemaker/ad_click)', () => {
  test('toModelRequest maps camelCase to the model fields, unknowns as empty strings', () => {
    const request = scoreRequest(2);
    expect(toModelRequest(request, { age_group: '25-34', country: 'US' })).toEqual({
      user: { user_id: 'u000042', age_group: '25-34', country: 'US' },
      context: { device: 'mobile', placement: 'feed', hour_of_day: '13', day_of_week: 'tue' },
      candidates: [
        { ad_id: 'ad00000', advertiser_id: 'adv000', ad_category: 'travel' },
        { ad_id: 'ad00001', advertiser_id: 'adv001', ad_category: 'finance' },
      ],
    });
    const { device, placement } = request.context;
    const context = { device, placement };
    const unknown = toModelRequest({ ...request, context }, undefined);
    expect(unknown.user).toEqual({ user_id: 'u000042', age_group: '', country: '' });
    expect(unknown.context).toMatchObject({ hour_of_day: '', day_of_week: '' });
    expect(ModelRequest.safeParse(unknown).success).toBe(true);
  });

  test('the inference handler accepts the requests we send, reads the same values, and answers what we parse', () => {
    const full = toModelRequest(scoreRequest(MAX_CANDIDATES), { age_group: '25-34', country: 'US' });
    const unknown = toModelRequest(scoreRequest(1, 'new-user'), undefined);
    const result = python(
      [
        'import json, sys',
        'from ad_click import features, generate, inference',
        'requests = json.load(sys.stdin)',
        'parsed = [inference.parse_request(r, features.REQUEST_GROUPS) for r in requests]',
        'answer = json.loads(inference.output_fn({"probabilities": [0.25, 0.5], "model_version": "m1"}, "application/json"))',
        'print(json.dumps({"parsed": parsed, "answer": answer, "max": inference.MAX_CANDIDATES, "days": list(generate.DAYS)}))',
      ].join('\n'),
      [full, unknown],
    ) as { parsed: unknown[]; answer: unknown; max: number; days: string[] };

    // The handler reads back exactly what we sent: the same fields, as the same strings.
    expect(result.parsed).toEqual([full, unknown]);
    expect(ModelAnswer.parse(result.answer)).toEqual({ probabilities: [0.25, 0.5], model_version: 'm1' });
    expect(result.max).toBe(MAX_CANDIDATES);
    expect(result.days).toEqual([...DAYS_OF_WEEK]);
  });
});
