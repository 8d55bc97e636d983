import { STACK_STEPS } from '../graph/framework-steps';
import { constructTable } from './data-section';
import { bullets, code, document, duration, formatNumber, table } from './markdown';
import { nodeName, perProfile, type PageInput } from './page-input';
import type { TrainingFacts } from './template-facts';

/** Step 4: the training job per profile, its schedule, and the gate a candidate must pass. */
export function trainingSection(input: PageInput): string {
  const production = input.profiles[input.diagramProfile];
  const gate = input.design.model.gate;
  const better = gate.direction === 'higher-is-better' ? 'above' : 'below';
  const gateTable = table(
    ['evaluation gate', 'value'],
    [
      ['metric', code(gate.metric)],
      ['direction', gate.direction],
      [
        'valid range',
        gate.range
          ? `[${formatNumber(gate.range[0], 4)}, ${formatNumber(gate.range[1], 4)}]`
          : 'any finite number',
      ],
      ['baseline metric', code(gate.baselineMetric)],
      ['must beat the baseline by', `${formatNumber(gate.minImprovementOverBaseline, 4)} (${better} it)`],
      ['must beat the champion by', `${formatNumber(gate.minImprovementOverChampion, 4)} (${better} it)`],
    ],
  );
  const jobs = production.facts.trainingJobs;
  const job = (facts: TrainingFacts | undefined) =>
    facts &&
    [
      `${facts.instanceType} x ${facts.instanceCount ?? 1}`,
      facts.volumeGb === undefined ? undefined : `${facts.volumeGb} GB`,
      facts.maxRuntimeSeconds === undefined ? undefined : `at most ${duration(facts.maxRuntimeSeconds)}`,
      facts.spot ? 'spot' : 'on demand',
      facts.tuning
        ? `tuning: ${facts.tuning.maxJobs} jobs, ${facts.tuning.maxParallelJobs} at once`
        : undefined,
    ]
      .filter(Boolean)
      .join(', ');
  const schedules = production.facts.schedules.filter((s) => STACK_STEPS[s.node.split('/')[0]] === 4);
  return document([
    '## 4 Train and evaluate',
    constructTable(production.graph, 4),
    bullets([
      ...jobs.map(
        (facts, i) =>
          `${nodeName(facts.node)} trains on ${perProfile(input, (view) => job(view.facts.trainingJobs[i]))}.`,
      ),
      ...schedules.map(
        (schedule) =>
          `${nodeName(schedule.node)} runs on ${code(schedule.expression)}, ${perProfile(input, (view) => {
            const s = view.facts.schedules.find((other) => other.node === schedule.node);
            return s && (s.enabled ? 'enabled' : 'disabled, started by hand');
          })}.`,
      ),
    ]),
    'A candidate is registered and rolled out only when it passes the gate:',
    gateTable,
  ]).trimEnd();
}
