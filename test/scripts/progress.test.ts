import { setTimeout as sleep } from 'node:timers/promises';
import { formatDuration, isCi, Progress, progressMode } from '../../scripts/support/progress';

/** The escape that starts a terminal control sequence. */
const ESC = '\x1b';

/** A stream that keeps what is written; `isTTY` false, as a pipe would say. */
function capture(columns = 120) {
  const chunks: string[] = [];
  return {
    chunks,
    text: () => chunks.join(''),
    write: (text: string) => chunks.push(text) > 0,
    isTTY: false,
    columns,
  };
}

/** Two stages, as a script runs them: one counted towards a total, one with a summary of its own. */
async function twoStages(progress: Progress) {
  const upload = progress.stage('upload', { total: 4, unit: 'files' });
  for (let i = 0; i < 4; i++) upload.add();
  upload.done();
  await progress.track(
    'load',
    {},
    async () => 7,
    (users) => `${users} users`,
  );
}

describe('progress', () => {
  it('prints nothing under --quiet, whatever the terminal and CI say', async () => {
    for (const env of [{}, { CI: 'true' }]) {
      const stream = capture();
      const progress = new Progress({ quiet: true, stream, env, tty: true });
      expect(progress.mode).toBe('quiet');
      await twoStages(progress);
      progress.stage('failing').fail();
      progress.around(() => undefined);
      expect(stream.chunks).toEqual([]);
    }
  });

  it('under CI=true, prints one plain line per stage when it ends, even on a terminal', async () => {
    const stream = capture();
    const progress = new Progress({ stream, env: { CI: 'true' }, tty: true });
    expect(progress.mode).toBe('lines');
    const stage = progress.stage('upload', { total: 4, unit: 'files' });
    stage.add(3);
    // Nothing while the stage runs: a CI log keeps one line per stage.
    expect(stream.chunks).toEqual([]);
    stage.add();
    stage.done();
    await progress.track(
      'load',
      {},
      async () => 7,
      (users) => `${users} users`,
    );
    await expect(
      progress.track('train', {}, async () => {
        throw new Error('no torch');
      }),
    ).rejects.toThrow('no torch');
    expect(stream.text()).toMatch(
      /^upload: 4 files \(\d+\.\d s\)\nload: 7 users \(\d+\.\d s\)\ntrain: stopped after \d+\.\d s\n$/,
    );
    // Plain text: no carriage return or escape sequence in a log.
    expect(stream.text()).not.toContain('\r');
    expect(stream.text()).not.toContain(ESC);
  });

  it('without a terminal and without CI, also prints one line per stage', async () => {
    const stream = capture();
    const progress = new Progress({ stream, env: {} });
    expect(progress.mode).toBe('lines');
    await twoStages(progress);
    expect(stream.text().split('\n')).toEqual([
      expect.stringMatching(/^upload: 4 files \(/),
      expect.stringMatching(/^load: 7 users \(/),
      '',
    ]);
  });

  it('on a terminal draws a bar with the count, rate and time left, then leaves the stage line', async () => {
    const stream = capture(100);
    const progress = new Progress({ stream, env: {}, tty: true });
    expect(progress.mode).toBe('bar');
    const stage = progress.stage('upload', { total: 10, unit: 'files' });
    await sleep(260);
    stage.add(5);
    await sleep(260);
    const drawn = stream.text();
    // Redrawn in place: back to the first column, the line cleared to its right.
    expect(drawn).toContain(`${ESC}[0K`);
    expect(drawn).toMatch(
      /upload █{10}░{10} {2}50% \| 5\/10 files \| 0\.\d s, ~0\.\d s left \| [\d.]+ files\/s/,
    );
    // The cursor is never saved and restored around the bar (that would overwrite lines printed meanwhile).
    expect(drawn).not.toContain(`${ESC}7`);
    expect(drawn).not.toContain(`${ESC}8`);
    // Lines from elsewhere clear the bar first and it is drawn again after them.
    const before = stream.chunks.length;
    progress.around(() => stream.write('a line from stdout\n'));
    const around = stream.chunks.slice(before).join('');
    expect(around.startsWith(`\r${ESC}[2Ka line from stdout\n`)).toBe(true);
    expect(around).toContain('upload █');
    stage.add(5);
    stage.done();
    // The bar is cleared and the stage's summary line stays.
    const cleared = stream.text().split(`${ESC}[2K`);
    expect(cleared.at(-1)).toMatch(/^upload: 10 files \(0\.\d s, [\d.]+ files\/s\)\n$/);
    // No line is wider than the terminal.
    const lines = stream.text().split(new RegExp(`[\\r\\n]|${ESC}\\[\\d*[GK]`));
    expect(Math.max(...lines.map((line) => line.length))).toBeLessThan(100);
  });

  it('a timed stage is redrawn only by its updates, never by a timer', async () => {
    const stream = capture();
    const progress = new Progress({ stream, env: {}, tty: true });
    const stage = progress.stage('latency', { total: 10, unit: 'requests', redrawOnUpdate: true });
    const drawn = stream.chunks.length;
    await sleep(600);
    expect(stream.chunks.length).toBe(drawn);
    stage.add(5);
    expect(stream.text()).toContain('5/10 requests');
    stage.done();
  });

  it('reads CI as CI services set it, and formats durations', () => {
    expect([undefined, '', '0', 'false', 'FALSE'].map((CI) => isCi({ CI }))).toEqual([
      false,
      false,
      false,
      false,
      false,
    ]);
    expect(['true', '1', 'yes'].map((CI) => isCi({ CI }))).toEqual([true, true, true]);
    expect(progressMode({ stream: { write: () => true, isTTY: true }, env: {} })).toBe('bar');
    expect(progressMode({ stream: { write: () => true, isTTY: true }, env: { CI: '1' } })).toBe('lines');
    expect([400, 12_340, 245_000, 3_725_000].map(formatDuration)).toEqual([
      '0.4 s',
      '12.3 s',
      '4 min 05 s',
      '1 h 02 min',
    ]);
  });
});
