/**
 * The raw-events reader of `ab:report` on generated folders: the counts are the generator's exact
 * truth, redeliveries and resent feedback count once, feedback that matches nothing is counted by
 * reason, and the readout finds the planted difference with its sign.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readEventsCounts } from '../../../../../scripts/artist-recommender/ab/events-reader';
import { readout } from '../../../../../scripts/ab/readout';
import {
  feedbackLine,
  hourFolder,
  recommendationLine,
  writeEventsFixture,
  writeLines,
} from './events-fixture';

const START = new Date('2026-12-01T00:00:00.000Z');
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ab-events-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('readEventsCounts', () => {
  it('counts every served item as an impression and every clicked one as a click, per variant', async () => {
    // GIVEN 3,000 lists of 10 items over 50 hours, champion at 5% and challenger at 8%
    const truth = writeEventsFixture(dir, {
      ctr: { champion: 0.05, challenger: 0.08 },
      requests: 3000,
      start: START,
    });
    // WHEN the whole span is read
    const { variants, summary } = await readEventsCounts(dir, { from: START, to: truth.end }, [
      'champion',
      'challenger',
    ]);
    // THEN the counts are the generator's, in the design's variant order
    expect(variants).toEqual([
      { variant: 'champion', impressions: truth.impressions.champion, clicks: truth.clicks.champion },
      { variant: 'challenger', impressions: truth.impressions.challenger, clicks: truth.clicks.challenger },
    ]);
    expect(summary.files).toBeGreaterThan(50);
    expect(summary.servedLists).toBe(3000);
    expect(summary.invalidLines).toBe(0);
    expect(Object.values(summary.unmatched).every((n) => n === 0)).toBe(true);

    // AND the readout finds the challenger better, with the planted lift inside its interval
    const result = readout(variants, 'champion', { alpha: 0.05 });
    const [comparison] = result.comparisons;
    expect(comparison.verdict).toBe('challenger better');
    expect(comparison.z).toBeGreaterThan(3);
    expect(comparison.absoluteLiftInterval!.lower).toBeLessThan(0.03);
    expect(comparison.absoluteLiftInterval!.upper).toBeGreaterThan(0.03);
  });

  it('finds a worse challenger worse, and no difference where none is planted', async () => {
    const worse = join(dir, 'worse');
    const same = join(dir, 'same');
    const worseTruth = writeEventsFixture(worse, {
      ctr: { champion: 0.06, challenger: 0.04 },
      requests: 3000,
      start: START,
      seed: 2,
    });
    const sameTruth = writeEventsFixture(same, {
      ctr: { champion: 0.05, challenger: 0.05 },
      requests: 3000,
      start: START,
      seed: 3,
    });
    const order = ['champion', 'challenger'];
    const worseCounts = await readEventsCounts(worse, { from: START, to: worseTruth.end }, order);
    const sameCounts = await readEventsCounts(same, { from: START, to: sameTruth.end }, order);
    const worseReadout = readout(worseCounts.variants, 'champion', { alpha: 0.05 }).comparisons[0];
    expect(worseReadout.verdict).toBe('challenger worse');
    expect(worseReadout.z).toBeLessThan(-3);
    expect(worseReadout.relativeLiftInterval!.upper).toBeLessThan(0);
    expect(readout(sameCounts.variants, 'champion', { alpha: 0.05 }).comparisons[0].verdict).toBe(
      'no significant difference',
    );
  });

  it('says not enough data yet until both variants hold the planned sample', async () => {
    const truth = writeEventsFixture(dir, {
      ctr: { champion: 0.05, challenger: 0.08 },
      requests: 3000,
      start: START,
    });
    const { variants } = await readEventsCounts(dir, { from: START, to: truth.end }, [
      'champion',
      'challenger',
    ]);
    const smallest = Math.min(...variants.map((v) => v.impressions));
    const early = readout(variants, 'champion', { alpha: 0.05, plannedSamplePerVariant: smallest + 1 });
    expect(early.comparisons[0]).toMatchObject({
      verdict: 'not enough data yet',
      plannedSampleReached: false,
    });
    expect(early.comparisons[0].reason).toMatch(
      /^the smaller variant holds [\d,]+ of the planned [\d,]+ impressions; p = /,
    );
    const done = readout(variants, 'champion', { alpha: 0.05, plannedSamplePerVariant: smallest });
    expect(done.comparisons[0]).toMatchObject({ verdict: 'challenger better', plannedSampleReached: true });
  });

  it('keeps redelivered lines, resent feedback and repeated items once', async () => {
    const at = new Date('2026-12-01T10:00:00.000Z');
    const later = new Date(at.getTime() + 5_000);
    const list = recommendationLine('r1', 'champion', ['a1', 'a2', 'a2', 'a3'], at);
    const click = feedbackLine('r1', 'a1', true, later, 'champion');
    // The same list and click delivered twice (Firehose retries), in another file of the hour.
    writeLines(dir, 'part-1', [list, click]);
    writeLines(dir, 'part-2', [list, click]);
    // A second click on the same item from another event (a "clicked" sent under another id).
    writeLines(dir, 'part-3', [{ ...click, event_id: 'fb-other' }]);
    const { variants, summary } = await readEventsCounts(
      dir,
      { from: at, to: new Date(at.getTime() + 60_000) },
      ['champion', 'challenger'],
    );
    expect(variants).toEqual([
      { variant: 'champion', impressions: 3, clicks: 1 },
      { variant: 'challenger', impressions: 0, clicks: 0 },
    ]);
    expect(summary).toMatchObject({ duplicateLines: 2, duplicateItems: 1, servedLists: 1, clicks: 1 });
  });

  it('counts feedback that matches no served item by reason, and never as a click', async () => {
    const from = new Date('2026-12-10T00:00:00.000Z');
    const to = new Date('2026-12-11T00:00:00.000Z');
    const inside = new Date('2026-12-10T12:00:00.000Z');
    const lines = [
      recommendationLine('served', 'challenger', ['a1', 'a2'], inside),
      // served the day before the window: its click inside the window is not the window's
      recommendationLine('yesterday', 'champion', ['a1'], new Date('2026-12-09T23:00:00.000Z')),
      // served 8 days before its feedback
      recommendationLine('old', 'champion', ['a1'], new Date('2026-12-02T11:00:00.000Z')),
      feedbackLine('served', 'a1', true, inside),
      feedbackLine('served', 'a9', true, inside), // unknown_item
      feedbackLine('never-served', 'a1', true, inside), // unknown_request
      feedbackLine('never-served-2', 'a1', false, inside), // unknown_request, not a click
      feedbackLine('yesterday', 'a1', true, inside), // served_outside_window
      feedbackLine('old', 'a1', true, inside), // expired_request
      feedbackLine('served', 'a2', true, new Date('2026-12-11T00:00:01.000Z')), // after the window: not read
    ];
    writeLines(dir, 'mixed', lines);
    const { variants, summary } = await readEventsCounts(dir, { from, to }, ['champion', 'challenger']);
    expect(variants).toEqual([
      { variant: 'champion', impressions: 0, clicks: 0 },
      { variant: 'challenger', impressions: 2, clicks: 1 },
    ]);
    expect(summary.unmatched).toEqual({
      unknown_request: 2,
      unknown_item: 1,
      expired_request: 1,
      served_outside_window: 1,
    });
    expect(summary.unmatchedClicks).toBe(4);
    expect(summary.feedback).toBe(6);
  });

  it('reads plain .jsonl and raw/ itself, counts invalid lines and other events, and skips stray files', async () => {
    const at = new Date('2026-12-01T10:00:00.000Z');
    writeLines(dir, 'plain', [recommendationLine('r1', 'challenger', ['a1', 'a2'], at)], true);
    const folder = hourFolder(dir, at);
    writeFileSync(
      join(folder, 'broken.jsonl'),
      [
        '{"event_type":"recommendation"',
        JSON.stringify({ ...recommendationLine('r2', 'champion', [], at) }),
        JSON.stringify({ event_type: 'impression', event_id: 'e1', ts: at.toISOString() }),
        '',
      ].join('\n'),
    );
    mkdirSync(join(dir, 'raw', 'notes'), { recursive: true });
    writeFileSync(join(dir, 'raw', 'notes', 'README.txt'), 'not events');
    const window = { from: at, to: new Date(at.getTime() + 1000) };
    const fromRoot = await readEventsCounts(dir, window);
    expect(fromRoot.variants).toEqual([{ variant: 'challenger', impressions: 2, clicks: 0 }]);
    expect(fromRoot.summary).toMatchObject({
      invalidLines: 2,
      otherLines: 1,
      skippedFiles: ['raw/notes/README.txt'],
    });
    expect(fromRoot.summary.invalidExamples).toEqual([
      expect.stringMatching(/broken\.jsonl:1: not a JSON value$/),
      expect.stringMatching(/broken\.jsonl:2: items /),
    ]);
    const fromRaw = await readEventsCounts(join(dir, 'raw'), window);
    expect(fromRaw.variants).toEqual(fromRoot.variants);
  });
});
