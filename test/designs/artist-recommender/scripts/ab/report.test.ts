/**
 * `ab:report` and `ab:plan`: the CloudWatch reader with the client mocked at the SDK boundary (every
 * request checked against the CloudWatch API model), the report over both sources, the command
 * lines (bad input names the option, exit 2), and both scripts run as npm runs them.
 */
import { FEEDBACK_SERVICE_NAME } from '../../../../../lib/designs/artist-recommender/feedback-loop';
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeadlineExceededError } from '../../../../../lambda/platform/shared/deadline';
import {
  periodFor,
  readCloudWatchCounts,
} from '../../../../../scripts/artist-recommender/ab/cloudwatch-reader';
import { parsePlanArgs, plan } from '../../../../../scripts/ab/plan';
import { formatReport, parseReportArgs, report } from '../../../../../scripts/artist-recommender/ab/report';
import { describeFailure } from '../../../../../scripts/support/cli';
import { apiCheckedMockClient } from '../../../../support/aws-api-model/mock';
import { writeEventsFixture } from './events-fixture';

const cloudWatchMock = apiCheckedMockClient(CloudWatchClient);
const client = new CloudWatchClient({
  region: 'us-east-1',
  credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
});
const NOW = new Date('2026-12-02T12:00:00.000Z');
const FROM = new Date('2026-12-01T00:00:00.000Z');
const TO = new Date('2026-12-02T00:00:00.000Z');

beforeEach(() => cloudWatchMock.reset());

/** The exit code and message a bad command line ends with, as runMain prints it. */
function usage(name: string, parse: () => unknown): { code: number; text?: string } {
  try {
    parse();
  } catch (error) {
    return describeFailure(name, error);
  }
  return { code: 0 };
}

describe('readCloudWatchCounts', () => {
  it('sums Impressions and Clicks per Variant over every page, in the design namespace', async () => {
    // GIVEN two pages of results, the second after a NextToken
    cloudWatchMock
      .on(GetMetricDataCommand)
      .resolvesOnce({
        MetricDataResults: [
          { Id: 'impressions_0', Values: [1000, 2000], StatusCode: 'PartialData' },
          { Id: 'clicks_0', Values: [50, 100], StatusCode: 'PartialData' },
          { Id: 'impressions_1', Values: [300], StatusCode: 'PartialData' },
          { Id: 'clicks_1', Values: [], StatusCode: 'PartialData' },
        ],
        NextToken: 'page-2',
      })
      .resolvesOnce({
        MetricDataResults: [
          { Id: 'impressions_0', Values: [500], StatusCode: 'Complete' },
          { Id: 'clicks_0', Values: [25], StatusCode: 'Complete' },
          { Id: 'impressions_1', Values: [100], StatusCode: 'Complete' },
          { Id: 'clicks_1', Values: [30], StatusCode: 'Complete' },
        ],
      });
    // WHEN the window of a day ago is read
    const counts = await readCloudWatchCounts(client, {
      namespace: 'ArtistRecommender',
      variants: ['champion', 'challenger'],
      from: FROM,
      to: TO,
      now: NOW,
    });
    // THEN the sums are per variant, with 1-minute periods (the window is within 15 days)
    expect(counts).toEqual({
      variants: [
        { variant: 'champion', impressions: 3500, clicks: 175 },
        { variant: 'challenger', impressions: 400, clicks: 30 },
      ],
      periodSeconds: 60,
      calls: 2,
    });
    const calls = cloudWatchMock.commandCalls(GetMetricDataCommand);
    expect(calls[1].args[0].input.NextToken).toBe('page-2');
    expect(calls[0].args[0].input).toMatchObject({ StartTime: FROM, EndTime: TO });
    expect(calls[0].args[0].input.MetricDataQueries).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Id: 'clicks_1',
          MetricStat: {
            Metric: {
              Namespace: 'ArtistRecommender',
              MetricName: 'Clicks',
              Dimensions: [{ Name: 'Variant', Value: 'challenger' }],
            },
            Period: 60,
            Stat: 'Sum',
          },
        }),
      ]),
    );
  });

  it('puts the Powertools service dimension on the Clicks queries only, with --clicks-service', async () => {
    cloudWatchMock.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
    await readCloudWatchCounts(client, {
      namespace: 'ArtistRecommender',
      variants: ['champion'],
      from: FROM,
      to: TO,
      now: NOW,
      clicksService: 'feedback',
    });
    const queries = cloudWatchMock.commandCalls(GetMetricDataCommand)[0].args[0].input.MetricDataQueries!;
    expect(queries.map((q) => [q.Id, q.MetricStat!.Metric!.Dimensions])).toEqual([
      ['impressions_0', [{ Name: 'Variant', Value: 'champion' }]],
      [
        'clicks_0',
        [
          { Name: 'service', Value: 'feedback' },
          { Name: 'Variant', Value: 'champion' },
        ],
      ],
    ]);
  });

  it('picks the finest period CloudWatch still keeps for the window start', () => {
    const daysAgo = (days: number) => new Date(NOW.getTime() - days * 86_400_000);
    expect(periodFor(daysAgo(14), NOW)).toBe(60);
    expect(periodFor(daysAgo(30), NOW)).toBe(300);
    expect(periodFor(daysAgo(400), NOW)).toBe(3600);
    expect(periodFor(daysAgo(456), NOW)).toBeUndefined();
  });

  it('fails on a query CloudWatch could not answer, naming it', async () => {
    cloudWatchMock.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        {
          Id: 'impressions_0',
          Label: 'champion Impressions',
          StatusCode: 'Forbidden',
          Messages: [{ Code: 'AccessDenied', Value: 'not allowed' }],
        },
      ],
    });
    await expect(
      readCloudWatchCounts(client, { namespace: 'N', variants: ['champion'], from: FROM, to: TO, now: NOW }),
    ).rejects.toThrow('GetMetricData champion Impressions: Forbidden (AccessDenied: not allowed)');
  });

  it('gives up on a call at its deadline', async () => {
    cloudWatchMock.on(GetMetricDataCommand).callsFake(() => new Promise(() => undefined));
    await expect(
      readCloudWatchCounts(client, {
        namespace: 'N',
        variants: ['champion'],
        from: FROM,
        to: TO,
        now: NOW,
        timeoutMs: 50,
      }),
    ).rejects.toBeInstanceOf(DeadlineExceededError);
  });
});

describe('report', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ab-report-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads CloudWatch for the design and judges the challenger', async () => {
    cloudWatchMock.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        { Id: 'impressions_0', Values: [200_000], StatusCode: 'Complete' },
        { Id: 'clicks_0', Values: [10_000], StatusCode: 'Complete' },
        { Id: 'impressions_1', Values: [40_000], StatusCode: 'Complete' },
        { Id: 'clicks_1', Values: [2_400], StatusCode: 'Complete' },
      ],
    });
    const recent = new Date(Date.now() - 86_400_000);
    const options = parseReportArgs([
      '--from',
      recent.toISOString(),
      '--to',
      new Date(recent.getTime() + 3_600_000).toISOString(),
      '--cloudwatch',
      '--planned-ctr',
      '0.05',
      '--mde',
      '0.1',
    ]);
    const result = await report(options, { cloudwatch: async () => client });
    expect(result.cloudwatch).toEqual({
      namespace: 'ArtistRecommender',
      periodSeconds: 60,
      calls: 1,
      clicksService: FEEDBACK_SERVICE_NAME,
    });
    expect(result.plannedSample).toMatchObject({ perVariant: 31_234, targetCtr: expect.closeTo(0.055, 12) });
    const [comparison] = result.readout.comparisons;
    expect(comparison).toMatchObject({
      challenger: 'challenger',
      champion: 'champion',
      verdict: 'challenger better',
    });
    expect(comparison.relativeLift).toBeCloseTo(0.2, 10);
    const text = formatReport(result).join('\n');
    expect(text).toContain('verdict: challenger better');
    expect(text).toContain('planned sample: reached by both variants');
  });

  it("queries Clicks with the feedback function's service dimension, as Powertools publishes them", async () => {
    cloudWatchMock.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
    const recent = new Date(Date.now() - 3_600_000);
    const options = parseReportArgs([
      '--from',
      recent.toISOString(),
      '--to',
      new Date().toISOString(),
      '--cloudwatch',
    ]);
    await report(options, { cloudwatch: async () => client });
    const queries =
      cloudWatchMock.commandCalls(GetMetricDataCommand)[0].args[0].input.MetricDataQueries ?? [];
    const clicks = queries.filter((q) => q.MetricStat?.Metric?.MetricName === 'Clicks');
    expect(clicks.length).toBeGreaterThan(0);
    for (const q of clicks) {
      expect(q.MetricStat?.Metric?.Dimensions).toEqual(
        expect.arrayContaining([{ Name: 'service', Value: FEEDBACK_SERVICE_NAME }]),
      );
    }
  });

  it('reads an events folder and prints the counts, the lift and the unmatched feedback', async () => {
    const truth = writeEventsFixture(dir, {
      ctr: { champion: 0.05, challenger: 0.08 },
      requests: 2000,
      start: FROM,
    });
    const options = parseReportArgs([
      '--from',
      FROM.toISOString(),
      '--to',
      truth.end.toISOString(),
      '--events-dir',
      dir,
      '--planned-sample',
      '1000',
    ]);
    const result = await report(options, {
      cloudwatch: () => Promise.reject(new Error('no AWS for an events folder')),
    });
    expect(result.readout.variants.map((v) => [v.variant, v.impressions, v.clicks])).toEqual([
      ['champion', truth.impressions.champion, truth.clicks.champion],
      ['challenger', truth.impressions.challenger, truth.clicks.challenger],
    ]);
    const text = formatReport(result).join('\n');
    expect(text).toMatch(/^ {2}champion \* +[\d,]+ +[\d,]+ +\d\.\d{3}% +\[\d\.\d{3}%, \d\.\d{3}%\]$/m);
    expect(text).toMatch(/z = \d+\.\d{3}, two-sided p = /);
    expect(text).toContain('verdict: challenger better');
    expect(text).toContain('unmatched feedback: unknown_request 0, unknown_item 0');
  });
});

describe('the command lines', () => {
  const window = ['--from', '2026-12-01T00:00:00Z', '--to', '2026-12-02T00:00:00Z'];

  it.each([
    [['--to', '2026-12-02T00:00:00Z', '--cloudwatch'], /--from is required/],
    [[...window], /a source is required: --events-dir DIR or --cloudwatch/],
    [[...window, '--cloudwatch', '--events-dir', '.'], /--events-dir and --cloudwatch exclude each other/],
    [
      ['--from', '2026-12-02T00:00:00Z', '--to', '2026-12-01T00:00:00Z', '--cloudwatch'],
      /--to must be after --from/,
    ],
    [
      ['--from', 'yesterday', '--to', '2026-12-01T00:00:00Z', '--cloudwatch'],
      /--from must be an ISO-8601 time/,
    ],
    [[...window, '--events-dir', '/no/such/folder'], /--events-dir must be a folder/],
    [[...window, '--cloudwatch', '--mde', '0.1'], /--mde needs --planned-ctr/],
    [[...window, '--cloudwatch', '--planned-ctr', '0.05'], /--mde \(relative lift\) or --mde-absolute/],
    [
      [...window, '--cloudwatch', '--planned-ctr', '0.05', '--mde', '0.1', '--planned-sample', '5'],
      /--planned-sample excludes/,
    ],
    [
      [...window, '--cloudwatch', '--planned-ctr', '0.5', '--mde', '2'],
      /--mde 2 on a baseline CTR of 0.5 asks for a CTR of 1.5/,
    ],
    [[...window, '--cloudwatch', '--alpha', '0.7'], /--alpha must be a number in \(0, 0.5\], got "0.7"/],
    [
      [...window, '--cloudwatch', '--design', 'nope'],
      /--design must be one of .*artist-recommender.*, got "nope"/,
    ],
    [[...window, '--events-dir', '.', '--region', 'us-east-1'], /--region applies to --cloudwatch only/],
    [
      [...window, '--events-dir', '.', '--clicks-service', 'feedback'],
      /--clicks-service applies to --cloudwatch only/,
    ],
  ])('ab:report %j: exit 2 naming the option', (argv, message) => {
    const failure = usage('ab:report', () => parseReportArgs(argv));
    expect(failure.code).toBe(2);
    expect(failure.text).toMatch(message);
    expect(failure.text).not.toMatch(/\n\s+at /);
  });

  it.each([
    [['--mde', '0.1'], /--baseline-ctr is required/],
    [['--baseline-ctr', '0.05'], /--mde \(relative lift\) or --mde-absolute \(absolute lift\) is required/],
    [['--baseline-ctr', '0.05', '--mde', '0.1', '--mde-absolute', '0.01'], /exclude each other/],
    [['--baseline-ctr', '0', '--mde', '0.1'], /--baseline-ctr must be a number in \(0, 1\], got "0"/],
    [['--baseline-ctr', '0.05', '--mde-absolute', '-0.06'], /asks for a CTR of -0.01/],
    [['--baseline-ctr', '0.05', '--mde', '0'], /--mde must not be 0/],
    [
      ['--baseline-ctr', '0.05', '--mde', '0.1', '--power', '0.3'],
      /--power must be a number in \[0.5, 0.9999\]/,
    ],
  ])('ab:plan %j: exit 2 naming the option', (argv, message) => {
    const failure = usage('ab:plan', () => parsePlanArgs(argv));
    expect(failure.code).toBe(2);
    expect(failure.text).toMatch(message);
    expect(failure.text).toMatch(/^ab:plan: /);
  });
});

describe('plan', () => {
  it('plans the artist recommender: 31,234 impressions per variant, a day for its 10% challenger', () => {
    const result = plan(parsePlanArgs(['--baseline-ctr', '0.05', '--mde', '0.1']));
    expect(result.sample).toMatchObject({ perVariant: 31_234, targetCtr: expect.closeTo(0.055, 12) });
    // 5M users x 4 requests x 10 items x 10%.
    expect(result.traffic.variants).toEqual([
      { name: 'champion', share: 0.9, impressionsPerDay: 180_000_000, daysToReach: 1 },
      { name: 'challenger', share: 0.1, impressionsPerDay: 20_000_000, daysToReach: 1 },
    ]);
    expect(result).toMatchObject({ daysNeeded: 1, smallestVariant: 'challenger' });
  });

  it('takes the lift as absolute with --mde-absolute, and counts the days of the smallest variant', () => {
    const relative = plan(
      parsePlanArgs(['--baseline-ctr', '0.02', '--mde', '0.01', '--items-per-request', '1']),
    );
    const absolute = plan(
      parsePlanArgs(['--baseline-ctr', '0.02', '--mde-absolute', '0.0002', '--items-per-request', '1']),
    );
    expect(absolute.sample.perVariant).toBe(relative.sample.perVariant);
    // 7.8M impressions per variant against 2M a day for the challenger (5M x 4 x 1 x 10%).
    const n = relative.sample.perVariant;
    expect(relative.daysNeeded).toBe(Math.ceil(n / 2_000_000));
    expect(relative.daysNeeded).toBeGreaterThan(1);
  });
});

describe('the npm scripts', () => {
  const ROOT = join(__dirname, '..', '..', '..', '..', '..');
  const TS_NODE = require.resolve('ts-node/dist/bin.js');
  const run = (script: string, args: string[]) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
      execFile(
        process.execPath,
        [TS_NODE, '--transpile-only', script, ...args],
        { cwd: ROOT, timeout: 120_000 },
        (error, stdout, stderr) =>
          resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr }),
      ),
    );

  it('ab:plan --json prints the plan; ab:report --json on an events folder prints the readout', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ab-cli-'));
    try {
      const truth = writeEventsFixture(dir, {
        ctr: { champion: 0.05, challenger: 0.05 },
        requests: 300,
        start: FROM,
        seed: 7,
      });
      const [planned, reported, bad] = await Promise.all([
        run('scripts/ab/plan.ts', [
          '--design',
          'artist-recommender',
          '--baseline-ctr',
          '0.05',
          '--mde',
          '0.1',
          '--json',
        ]),
        run('scripts/artist-recommender/ab/report.ts', [
          '--from',
          FROM.toISOString(),
          '--to',
          truth.end.toISOString(),
          '--events-dir',
          dir,
          '--planned-ctr',
          '0.05',
          '--mde',
          '0.1',
          '--json',
        ]),
        run('scripts/artist-recommender/ab/report.ts', ['--from', 'soon', '--cloudwatch']),
      ]);
      expect(planned.code).toBe(0);
      expect(JSON.parse(planned.stdout)).toMatchObject({ design: 'artist-recommender', daysNeeded: 1 });
      expect(reported.code).toBe(0);
      const readout = JSON.parse(reported.stdout);
      expect(readout.readout.comparisons[0]).toMatchObject({
        verdict: 'not enough data yet',
        plannedSampleReached: false,
      });
      expect(bad).toEqual({
        code: 2,
        stdout: '',
        stderr:
          'ab:report: --from must be an ISO-8601 time such as 2026-01-31T12:00:00Z, got "soon"; ' +
          '--to is required: an ISO-8601 time such as 2026-01-31T12:00:00Z (see --help)\n',
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 150_000);
});
