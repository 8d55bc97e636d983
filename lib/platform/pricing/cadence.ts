/**
 * How often a schedule expression fires, for the cost of what it starts: EventBridge Scheduler's
 * and SageMaker Model Monitor's `rate(...)` and six-field `cron(...)` expressions
 * (https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html).
 */
import { HOURS_PER_MONTH } from './us-east-1';

const DAYS_PER_MONTH = HOURS_PER_MONTH / 24;
const MINUTES_PER_UNIT: Readonly<Record<string, number>> = { minute: 1, hour: 60, day: 24 * 60 };
const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];

export interface Cadence {
  /** Runs in the average month (730 hours). */
  readonly runsPerMonth: number;
  /** In words: `hourly`, `daily`, `every 6 hours`, `3 times a day`. */
  readonly description: string;
}

/** The cadence of `rate(...)` or `cron(...)`; throws for an expression it cannot count. */
export function cadence(expression: string): Cadence {
  const rate = /^rate\(\s*(\d+)\s+(minute|hour|day)s?\s*\)$/.exec(expression.trim());
  if (rate) {
    const every = Number(rate[1]);
    const unit = rate[2];
    if (every <= 0) throw new Error(`${expression}: a rate of 0`);
    const runsPerMonth = (HOURS_PER_MONTH * 60) / (every * MINUTES_PER_UNIT[unit]);
    const description =
      every === 1
        ? { minute: 'every minute', hour: 'hourly', day: 'daily' }[unit]!
        : `every ${every} ${unit}s`;
    return { runsPerMonth, description };
  }
  const cron = /^cron\((.*)\)$/.exec(expression.trim());
  if (!cron) throw new Error(`${expression}: neither rate(...) nor cron(...)`);
  const fields = cron[1].trim().split(/\s+/);
  if (fields.length !== 6) throw new Error(`${expression}: a cron expression has 6 fields`);
  const [minutes, hours, daysOfMonth, months, daysOfWeek] = fields;
  const perDay = count(minutes, 0, 59, expression) * count(hours, 0, 23, expression);
  const monthShare = count(months, 1, 12, expression, MONTHS) / 12;
  let days: number;
  if (isAny(daysOfMonth) && isAny(daysOfWeek)) days = DAYS_PER_MONTH;
  else if (isAny(daysOfMonth)) days = (count(daysOfWeek, 1, 7, expression, WEEKDAYS, 1) * DAYS_PER_MONTH) / 7;
  else if (isAny(daysOfWeek)) days = Math.min(count(daysOfMonth, 1, 31, expression), DAYS_PER_MONTH);
  else throw new Error(`${expression}: both a day of the month and a day of the week`);
  const runsPerMonth = perDay * days * monthShare;
  return { runsPerMonth, description: describe(runsPerMonth) };
}

function isAny(field: string): boolean {
  return field === '*' || field === '?';
}

/** How many values a cron field takes in [min, max]; names count from `nameBase`. */
function count(
  field: string,
  min: number,
  max: number,
  expression: string,
  names: readonly string[] = [],
  nameBase = min,
): number {
  const value = (text: string): number => {
    const named = names.indexOf(text.toUpperCase());
    if (named >= 0) return named + nameBase;
    if (!/^\d+$/.test(text)) throw new Error(`${expression}: cannot count "${field}"`);
    return Number(text);
  };
  let total = 0;
  for (const part of field.split(',')) {
    const [range, stepText] = part.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step <= 0) throw new Error(`${expression}: cannot count "${field}"`);
    let from: number;
    let to: number;
    if (isAny(range)) [from, to] = [min, max];
    else if (range.includes('-')) [from, to] = range.split('-').map(value) as [number, number];
    else [from, to] = [value(range), stepText === undefined ? value(range) : max];
    if (from > to || from < min || to > max) throw new Error(`${expression}: cannot count "${field}"`);
    total += Math.floor((to - from) / step) + 1;
  }
  return total;
}

function describe(runsPerMonth: number): string {
  const perDay = runsPerMonth / DAYS_PER_MONTH;
  const round = (n: number) => Number(n.toFixed(2));
  if (Math.abs(perDay - 24) < 1e-9) return 'hourly';
  if (Math.abs(perDay - 1) < 1e-9) return 'daily';
  if (perDay > 1) return `${round(perDay)} times a day`;
  return `${round(runsPerMonth)} times a month`;
}
