import { featureEngineOf } from '../../../lib/platform/config/feature-engine';
import { STACK_STEPS } from '../graph/framework-steps';
import type { ArchitectureGraph } from '../graph/model';
import { bullets, bytes, code, count, document, formatNumber, table } from './markdown';
import { nodeName, perProfile, type PageInput } from './page-input';

/** The constructs of the stacks that serve `step`, as a table. */
export function constructTable(graph: ArchitectureGraph, step: number): string | undefined {
  const nodes = graph.nodes.filter((node) => STACK_STEPS[node.stack] === step);
  if (nodes.length === 0) return undefined;
  return table(
    ['construct', 'what', 'resources', 'description'],
    nodes.map((node) => [nodeName(node.id), node.kind, String(node.resourceCount), node.description ?? '']),
  );
}

/** Step 2: ingestion, storage, the database, the feature groups and the engine that builds features. */
export function dataSection(input: PageInput): string {
  const production = input.profiles[input.diagramProfile];
  const streams = production.facts.streams.map((stream) =>
    [
      `${nodeName(stream.node)} delivers to ${stream.destination ? nodeName(stream.destination) : 'S3'}`,
      `buffering ${perProfile(input, (view) => {
        const s = view.facts.streams.find((other) => other.node === stream.node);
        return s && `${formatNumber(s.bufferSeconds ?? 0)} s or ${formatNumber(s.bufferMb ?? 0)} MB`;
      })}`,
      `kept ${perProfile(input, (view) => {
        const days = view.facts.streams.find((other) => other.node === stream.node)?.expirationDays;
        return days === undefined ? undefined : count(days, 'day');
      })}`,
    ].join('; '),
  );
  const databases = production.facts.databases.map((database) =>
    [
      `${nodeName(database.node)}: ${database.engine}, Serverless v2`,
      `${perProfile(input, (view) => {
        const d = view.facts.databases.find((other) => other.node === database.node);
        return (
          d &&
          `${formatNumber(d.minAcu ?? 0)}-${formatNumber(d.maxAcu ?? 0)} ACU, ${count(d.instances, 'instance')}`
        );
      })}`,
      `backups kept ${perProfile(input, (view) => {
        const d = view.facts.databases.find((other) => other.node === database.node);
        return d?.backupRetentionDays === undefined ? undefined : count(d.backupRetentionDays, 'day');
      })}`,
      `deletion protection ${perProfile(input, (view) => {
        const d = view.facts.databases.find((other) => other.node === database.node);
        return d && (d.deletionProtection ? 'on' : 'off');
      })}`,
    ].join('; '),
  );
  const groups = production.facts.featureGroups;
  const featureGroups =
    groups.length > 0
      ? table(
          ['feature group', 'features', 'online store', 'offline store', 'description'],
          groups.map((group) => [
            nodeName(group.node),
            String(group.features),
            group.online ? 'yes' : 'no',
            group.offline ? 'yes' : 'no',
            group.description ?? '',
          ]),
        )
      : undefined;
  const schedules = production.facts.schedules.filter(
    (schedule) => STACK_STEPS[schedule.node.split('/')[0]] === 2,
  );
  return document([
    '## 2 Data pipeline',
    constructTable(production.graph, 2),
    bullets([
      ...streams,
      ...databases,
      ...schedules.map(
        (schedule) =>
          `${nodeName(schedule.node)} runs on ${code(schedule.expression)}, ${perProfile(input, (view) => {
            const s = view.facts.schedules.find((other) => other.node === schedule.node);
            return s && (s.enabled ? 'enabled' : 'disabled, started by hand');
          })}`,
      ),
    ]),
    featureGroups,
    featureEngineText(input),
  ]).trimEnd();
}

/** Which engine builds the features, why, and what the synthesized app holds for it. */
function featureEngineText(input: PageInput): string {
  const choice = featureEngineOf(input.design);
  const production = input.profiles[input.diagramProfile].facts;
  const lake = production.lakes[0];
  const cutoff = perProfile(input, (view) => {
    const bytesCap = view.facts.lakes[0]?.bytesScannedCutoffPerQuery;
    return bytesCap === undefined ? undefined : bytes(bytesCap);
  });
  if (!choice) {
    return `Feature engine: none. The design has no feature build over its event history (no ${code('featureBuild')}); its features reach the online store as they change.`;
  }
  const deployed = lake ? 'lake' : 'postgres';
  if (deployed !== choice.engine) {
    throw new Error(
      `the feature engine chosen for ${input.design.id} (${choice.engine}) is not the one its app deploys (${deployed})`,
    );
  }
  const build = input.design.featureBuild!;
  const reads = `${formatNumber(input.design.requirements.dailyActiveUsers)} daily active users x ${formatNumber(build.eventsPerUserPerDay)} events a day x ${formatNumber(build.historyDays)} days = ${formatNumber(choice.eventsRead)} events`;
  const where =
    choice.engine === 'lake'
      ? `the event lake (Athena, ${nodeName(lake!.node)}), which scans in parallel and stops a query past ${cutoff} scanned`
      : 'the account database (PostgreSQL), inside a function on its one writer';
  return `Feature engine (${code('chooseFeatureEngine')}, ${code('lib/platform/config/feature-engine.ts')}): a build reads ${reads}, ${choice.engine === 'lake' ? 'more' : 'no more'} than the threshold of ${formatNumber(choice.thresholdEvents)}, so features are built on ${where}.`;
}
