/** The table an end-to-end run prints on stdout: one row per stage with its counts and wall time. */
export interface StageRow {
  readonly stage: string;
  readonly counts: string;
  readonly ms: number;
}

/** The stage table, fixed-width, one row per stage and a total. */
export function formatTable(rows: readonly StageRow[]): string {
  const all = [...rows, { stage: 'total', counts: '', ms: rows.reduce((sum, r) => sum + r.ms, 0) }];
  const stageWidth = Math.max(5, ...all.map((r) => r.stage.length));
  const countsWidth = Math.max(6, ...all.map((r) => r.counts.length));
  const line = (a: string, b: string, c: string) =>
    `${a.padEnd(stageWidth)}  ${b.padEnd(countsWidth)}  ${c.padStart(8)}`;
  return [
    line('stage', 'counts', 'wall'),
    line('-'.repeat(stageWidth), '-'.repeat(countsWidth), '-'.repeat(8)),
    ...all.map((r) => line(r.stage, r.counts, `${(r.ms / 1000).toFixed(2)} s`)),
  ].join('\n');
}
