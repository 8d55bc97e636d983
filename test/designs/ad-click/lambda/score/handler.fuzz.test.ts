/**
 * Malformed score requests, generated from a seeded PRNG (set FUZZ_SEED to reproduce or vary a
 * run), sent to the handler with both SDK clients mocked: every one must be answered with a 4xx and
 * a JSON error naming the field, never a 5xx or an unhandled rejection, and none may reach the
 * Feature Store or the endpoint.
 */
import { captureStdout, type StdoutCapture } from '../../support/powertools-env';
import { runInThisContext } from 'node:vm';
import { createHandler } from '../../../../../lambda/ad-click/score/handler';
import { seededRandom } from '../../../../../scripts/support/seeded-random';
import { badRequests, within } from '../../support/bad-requests';
import { lambdaContext, mockScoringClients, scoreEvent, scoringConfig } from '../../support/scoring-fixtures';

const SEED = Number(process.env.FUZZ_SEED ?? 20261202);
const CASES = 1500;

const { featureStore, runtime, healthy } = mockScoringClients();
let stdout: StdoutCapture;
const rejections: unknown[] = [];
const onRejection = (reason: unknown) => rejections.push(reason);
/** The test file's `process` is a stand-in that never sees rejections; the listener goes on the real one. */
const realProcess = runInThisContext('process') as NodeJS.Process;

beforeAll(() => {
  realProcess.on('unhandledRejection', onRejection);
  stdout = captureStdout();
  healthy();
});

afterAll(() => {
  realProcess.removeListener('unhandledRejection', onRejection);
  stdout?.restore();
  featureStore.restore();
  runtime.restore();
});

it(`answers ${CASES} malformed requests (seed ${SEED}) with a 4xx naming the field, and calls nothing`, async () => {
  const handler = createHandler(scoringConfig());
  const next = badRequests(seededRandom(SEED));
  const failures: string[] = [];
  const statuses = new Map<number, number>();
  for (let i = 0; i < CASES; i++) {
    const fuzz = next();
    const event = scoreEvent('', { body: fuzz.body, isBase64Encoded: fuzz.isBase64Encoded ?? false });
    const result = await handler(event, lambdaContext);
    statuses.set(result.statusCode, (statuses.get(result.statusCode) ?? 0) + 1);
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(result.body);
    } catch {
      // reported below
    }
    const ok =
      result.statusCode === (fuzz.status ?? 400) &&
      result.headers?.['content-type'] === 'application/json' &&
      body.error === 'BadRequest' &&
      typeof body.message === 'string' &&
      body.message.length <= 200 &&
      typeof body.field === 'string' &&
      (fuzz.field === undefined || within(body.field, fuzz.field));
    if (!ok && failures.length < 5) {
      failures.push(
        `case ${i} (seed ${SEED}): expected ${fuzz.status ?? 400} on ${fuzz.field ?? 'any field'}, got ` +
          `${result.statusCode} ${result.body.slice(0, 200)} for ${String(fuzz.body).slice(0, 300)}`,
      );
    }
  }
  await new Promise((resolve) => setTimeout(resolve, 20));

  expect(failures).toEqual([]);
  expect([...statuses.keys()].every((status) => status >= 400 && status < 500)).toBe(true);
  expect(statuses.get(400)).toBeGreaterThan(CASES / 2);
  expect(statuses.get(413)).toBeGreaterThan(0);
  expect(rejections).toEqual([]);
  expect(featureStore.calls()).toHaveLength(0);
  expect(runtime.calls()).toHaveLength(0);
  const metrics = stdout.metricNames();
  expect(metrics.filter((name) => name === 'BadRequest')).toHaveLength(CASES);
  expect(metrics).not.toContain('UnexpectedError');
});
