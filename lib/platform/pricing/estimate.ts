/**
 * The cost estimate of an app's synthesized templates: every resource priced by the model of its
 * type (./cost-models.ts), totals per stack and for the app, and how the idle total compares with
 * the sandbox's goal. A resource whose type has no model, or that its model cannot price as
 * configured, is `unknown`: listed, never dropped.
 */
import { COST_MODELS, Unpriced, type CostModel, type Rate, type Recurring } from './cost-models';
import { AppTemplates, type StackTemplate } from './templates';
import { PRICES } from './us-east-1';

/** What a sandbox may cost a month while nobody uses it (SYSTEM.md, "Platform, designs, profiles"). */
export const SANDBOX_IDLE_GOAL_USD = 15;

export type CostStatus = 'idle' | 'per-use' | 'free' | 'unknown';

export interface ResourceCost {
  readonly stack: string;
  readonly logicalId: string;
  readonly type: string;
  /** The construct path inside its stack, without CDK's trailing `/Resource`. */
  readonly path: string;
  /**
   * `idle`: bills while nothing uses it (hourly or monthly, or a schedule's runs); `per-use`: bills
   * only for use; `free`; `unknown`: no model, or the model cannot price it (see `reason`).
   */
  readonly status: CostStatus;
  /** Always-on charges, USD a month. */
  readonly idleMonthly: number;
  /** What a schedule starts by itself, at most, USD a month; 0 when nothing. */
  readonly scheduledMonthly: number;
  readonly basis: string;
  readonly rates: readonly Rate[];
  readonly recurring?: Recurring;
  readonly notes: readonly string[];
  /** Why an `unknown` resource is not priced. */
  readonly reason?: string;
}

export interface StackCost {
  readonly name: string;
  readonly idleMonthly: number;
  readonly scheduledMonthly: number;
  /** idleMonthly + scheduledMonthly. */
  readonly totalMonthly: number;
  readonly resources: readonly ResourceCost[];
}

export interface Estimate {
  readonly stacks: readonly StackCost[];
  readonly idleMonthly: number;
  readonly scheduledMonthly: number;
  /** What the app costs a month while nobody uses it: always-on charges plus scheduled runs at most. */
  readonly totalMonthly: number;
  readonly unknown: readonly ResourceCost[];
  /** The most of the total the account's always-free allowances could cover (10 alarm metrics, 3 dashboards). */
  readonly freeTierMonthly: number;
}

export interface GoalCheck {
  readonly goalMonthly: number;
  readonly totalMonthly: number;
  readonly met: boolean;
  /** Largest first, the resources whose removal brings the total to the goal; empty when met. */
  readonly above: readonly ResourceCost[];
}

const trimPath = (path: string) => path.replace(/(\/(Resource|Default))+$/, '');
const cents = (n: number) => Math.round(n * 1e6) / 1e6;

export function estimate(
  stacks: readonly StackTemplate[],
  models: Readonly<Record<string, CostModel>> = COST_MODELS,
): Estimate {
  const app = new AppTemplates(stacks);
  const priced = app.resources.map((resource): ResourceCost => {
    const base = {
      stack: resource.stack,
      logicalId: resource.logicalId,
      type: resource.type,
      path: trimPath(resource.path),
    };
    const model = models[resource.type];
    const unknown = (reason: string): ResourceCost => ({
      ...base,
      status: 'unknown',
      idleMonthly: 0,
      scheduledMonthly: 0,
      basis: `unknown: ${reason}`,
      rates: [],
      notes: [],
      reason,
    });
    if (!model) return unknown(`no cost model for ${resource.type} (lib/platform/pricing/cost-models.ts)`);
    try {
      const pricing = model(resource, app);
      const scheduledMonthly = pricing.recurring?.monthly ?? 0;
      const rates = pricing.rates ?? [];
      const status: CostStatus =
        pricing.idleMonthly > 0 || scheduledMonthly > 0 ? 'idle' : rates.length > 0 ? 'per-use' : 'free';
      return {
        ...base,
        status,
        idleMonthly: cents(pricing.idleMonthly),
        scheduledMonthly: cents(scheduledMonthly),
        basis: pricing.basis,
        rates,
        ...(pricing.recurring ? { recurring: pricing.recurring } : {}),
        notes: pricing.notes ?? [],
      };
    } catch (error) {
      // Unpriced, or a plain Error of a reader (a schedule expression it cannot count); a bug stays a bug.
      if (error instanceof Unpriced || (error instanceof Error && error.constructor === Error)) {
        return unknown((error as Error).message);
      }
      throw error;
    }
  });

  const stackCosts = stacks.map((stack): StackCost => {
    const resources = priced.filter((r) => r.stack === stack.name);
    const idleMonthly = cents(sum(resources.map((r) => r.idleMonthly)));
    const scheduledMonthly = cents(sum(resources.map((r) => r.scheduledMonthly)));
    return {
      name: stack.name,
      idleMonthly,
      scheduledMonthly,
      totalMonthly: cents(idleMonthly + scheduledMonthly),
      resources,
    };
  });
  const idleMonthly = cents(sum(stackCosts.map((s) => s.idleMonthly)));
  const scheduledMonthly = cents(sum(stackCosts.map((s) => s.scheduledMonthly)));
  return {
    stacks: stackCosts,
    idleMonthly,
    scheduledMonthly,
    totalMonthly: cents(idleMonthly + scheduledMonthly),
    unknown: priced.filter((r) => r.status === 'unknown'),
    freeTierMonthly: freeTier(priced),
  };
}

function freeTier(resources: readonly ResourceCost[]): number {
  const alarmMetrics = sum(
    resources
      .filter(
        (r) =>
          r.type === 'AWS::CloudWatch::Alarm' && r.idleMonthly > 0 && !r.basis.includes('high-resolution'),
      )
      .map((r) => Math.round(r.idleMonthly / PRICES.alarmMetricMonth.usd))
      .filter((n) => Number.isFinite(n)),
  );
  const dashboards = resources.filter((r) => r.type === 'AWS::CloudWatch::Dashboard').length;
  return cents(
    Math.min(alarmMetrics, 10) * PRICES.alarmMetricMonth.usd +
      Math.min(dashboards, 3) * PRICES.dashboardMonth.usd,
  );
}

/** How the estimate's total compares with `goalMonthly`, and what puts it above. */
export function checkGoal(result: Estimate, goalMonthly: number = SANDBOX_IDLE_GOAL_USD): GoalCheck {
  const total = result.totalMonthly;
  const above: ResourceCost[] = [];
  if (total > goalMonthly) {
    const byCost = result.stacks
      .flatMap((s) => s.resources)
      .filter((r) => r.idleMonthly + r.scheduledMonthly > 0)
      .sort((a, b) => b.idleMonthly + b.scheduledMonthly - (a.idleMonthly + a.scheduledMonthly));
    let left = total;
    for (const resource of byCost) {
      if (left <= goalMonthly) break;
      above.push(resource);
      left -= resource.idleMonthly + resource.scheduledMonthly;
    }
  }
  return { goalMonthly, totalMonthly: total, met: total <= goalMonthly, above };
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
