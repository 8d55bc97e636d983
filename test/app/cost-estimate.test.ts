/**
 * The cost estimate of every registered design in both profiles, as `npm run cost` makes it: every
 * resource type of the synthesized templates has a cost model (a new type forces a price decision
 * here), the totals make sense, and README.md's cost tables are the estimate's own.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { estimate } from '../../lib/platform/pricing/estimate';
import {
  deploymentTable,
  unitPriceTable,
  type DeploymentEstimate,
  type MarkdownTable,
} from '../../lib/platform/pricing/report';
import { stackTemplates } from '../../lib/platform/pricing/synthesized';
import { parseMarkdown } from '../readme/markdown';
import { DESIGN_IDS, DESIGNS_AND_PROFILES, appUnderTest } from './app-under-test';

const SYNTH_TIMEOUT_MS = 300_000;
const REGENERATE = 'run `npm run cost -- --markdown` and paste its tables over those of README.md "Costs"';

const estimates = new Map<string, DeploymentEstimate>();
const key = (design: string, profile: string) => `${design}/${profile}`;

beforeAll(() => {
  for (const [design, profile] of DESIGNS_AND_PROFILES) {
    const { app, stacks } = appUnderTest(design, profile);
    estimates.set(key(design, profile), { design, profile, estimate: estimate(stackTemplates(app, stacks)) });
  }
}, SYNTH_TIMEOUT_MS);

const get = (design: string, profile: string) => estimates.get(key(design, profile))!;

describe.each(DESIGNS_AND_PROFILES)('the cost estimate of %s, %s', (design, profile) => {
  it('prices every resource type of the templates (a new type needs a model in lib/platform/pricing/cost-models.ts)', () => {
    const unknown = get(design, profile).estimate.unknown.map(
      (r) => `${r.stack} ${r.path} (${r.type}): ${r.reason}`,
    );
    expect(unknown).toEqual([]);
  });

  it('has a positive idle total that is the sum of its stacks', () => {
    const { estimate: result } = get(design, profile);
    expect(result.totalMonthly).toBeGreaterThan(0);
    const stacks = result.stacks.reduce((sum, s) => sum + s.totalMonthly, 0);
    expect(result.totalMonthly).toBeCloseTo(stacks, 4);
  });
});

describe.each(DESIGN_IDS)('%s', (design) => {
  it('idles for less in the sandbox than in production', () => {
    expect(get(design, 'sandbox').estimate.totalMonthly).toBeLessThan(
      get(design, 'production').estimate.totalMonthly,
    );
  });

  it('runs nothing on a schedule in the sandbox (its schedules are off)', () => {
    expect(get(design, 'sandbox').estimate.scheduledMonthly).toBe(0);
  });
});

describe('README.md "Costs"', () => {
  const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
  const doc = parseMarkdown(readme);

  /** Differences between the README's table under `heading` (matched by its start) and `expected`. */
  function compare(expected: MarkdownTable, headingStart: string): string[] {
    const heading = doc.headings.find((h) => h.text.startsWith(headingStart));
    if (!heading) return [`no heading "${expected.heading}" in README.md: ${REGENERATE}`];
    const problems: string[] = [];
    if (heading.text !== expected.heading) {
      problems.push(`README.md:${heading.line}: "${heading.text}", the estimate says "${expected.heading}"`);
    }
    const table = doc.tables.find((t) => t.line > heading.line);
    if (!table) return [...problems, `README.md:${heading.line}: no table under "${heading.text}"`];
    const rows = table.rows.map((r) => r.cells.join(' | '));
    const wanted = expected.rows.map((r) => r.map((c) => c.replace(/\|/g, '\\|')).join(' | '));
    for (let i = 0; i < Math.max(rows.length, wanted.length); i++) {
      if (rows[i] !== wanted[i]) {
        const line = table.rows[i]?.line ?? table.line;
        problems.push(
          `README.md:${line}: "${rows[i] ?? '(no row)'}", the estimate's row: "${wanted[i] ?? '(none)'}"`,
        );
      }
    }
    return problems;
  }

  it.each(DESIGNS_AND_PROFILES)('carries the table of %s, %s as the estimate makes it', (design, profile) => {
    const problems = compare(deploymentTable(get(design, profile)), `${design}, ${profile}:`);
    if (problems.length > 0) problems.push(REGENERATE);
    expect(problems).toEqual([]);
  });

  it('carries the prices per unit of use', () => {
    const problems = compare(unitPriceTable([...estimates.values()]), 'Prices per unit of use');
    if (problems.length > 0) problems.push(REGENERATE);
    expect(problems).toEqual([]);
  });
});
