import * as fs from 'node:fs';
import type { ParameterRanges } from '@aws-sdk/client-sagemaker';
import type { TaskParameters } from '../../workflow/sdk-parameters';

/**
 * A model's documented hyperparameter search space (`sagemaker/<design>/search_space.json`),
 * the one file both the training script's own tuning and an automatic model tuning job read:
 *
 * ```json
 * {"parameters": [{"name": "reg", "type": "continuous", "min": 0.001, "max": 1, "scale": "log"},
 *                 {"name": "factors", "type": "integer", "min": 32, "max": 256},
 *                 {"name": "weighting", "type": "categorical", "values": ["bm25", "log"]}],
 *  "objective": {"metric": "ndcg_at_10", "direction": "maximize"}}
 * ```
 *
 * Names are the script's hyperparameter names (underscores); `scale` defaults to linear.
 */
export interface SearchSpace {
  readonly parameters: readonly SearchParameter[];
  readonly objective: { readonly metric: string; readonly direction: 'maximize' | 'minimize' };
}

export type SearchParameter =
  | {
      readonly name: string;
      readonly type: 'continuous' | 'integer';
      readonly min: number;
      readonly max: number;
      readonly scale: 'log' | 'linear';
    }
  | {
      readonly name: string;
      readonly type: 'categorical';
      readonly values: readonly (string | number | boolean)[];
    };

/**
 * The most hyperparameters one tuning job searches, all range types together, and the most values
 * of one categorical range
 * (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ParameterRanges.html,
 * https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CategoricalParameterRange.html).
 */
export const MAX_TUNED_PARAMETERS = 30;
export const MAX_CATEGORICAL_VALUES = 30;

const NAME = /^[a-z][a-z0-9_]*$/;

/**
 * Reads and checks a search space file at synth time. Every problem is reported in one error that
 * names the file and each bad field (`parameters[2].max: ...`).
 */
export function readSearchSpace(file: string): SearchSpace {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`${file}: not a readable JSON file (${(error as Error).message})`);
  }
  const problems: string[] = [];
  const space = parseSearchSpace(raw, (field, message) => problems.push(`${field}: ${message}`));
  if (problems.length > 0 || !space) {
    throw new Error(`Invalid search space ${file}:\n  - ${problems.join('\n  - ')}`);
  }
  return space;
}

type Report = (field: string, message: string) => void;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

/** The search space `raw` describes, or undefined; reports every problem it finds. */
export function parseSearchSpace(raw: unknown, report: Report): SearchSpace | undefined {
  if (!isObject(raw)) {
    report('(root)', 'must be an object with "parameters" and "objective"');
    return undefined;
  }
  const parameters: SearchParameter[] = [];
  if (!Array.isArray(raw.parameters) || raw.parameters.length === 0) {
    report('parameters', 'must be a non-empty array');
  } else {
    if (raw.parameters.length > MAX_TUNED_PARAMETERS) {
      report(
        'parameters',
        `at most ${MAX_TUNED_PARAMETERS} hyperparameters per tuning job; got ${raw.parameters.length}`,
      );
    }
    const names = new Set<string>();
    raw.parameters.forEach((entry: unknown, i: number) => {
      const parameter = parseParameter(entry, `parameters[${i}]`, report);
      if (!parameter) return;
      if (names.has(parameter.name)) report(`parameters[${i}].name`, `duplicates "${parameter.name}"`);
      names.add(parameter.name);
      parameters.push(parameter);
    });
  }
  const objective = raw.objective;
  let parsedObjective: SearchSpace['objective'] | undefined;
  if (!isObject(objective)) {
    report('objective', 'must be an object with "metric" and "direction"');
  } else {
    if (typeof objective.metric !== 'string' || objective.metric.length === 0) {
      report('objective.metric', 'must be the name of a metric the script prints');
    }
    if (objective.direction !== 'maximize' && objective.direction !== 'minimize') {
      report(
        'objective.direction',
        `must be "maximize" or "minimize"; got ${JSON.stringify(objective.direction)}`,
      );
    }
    parsedObjective = objective as SearchSpace['objective'];
  }
  return parsedObjective ? { parameters, objective: parsedObjective } : undefined;
}

function parseParameter(entry: unknown, at: string, report: Report): SearchParameter | undefined {
  if (!isObject(entry)) {
    report(at, 'must be an object');
    return undefined;
  }
  const found = { count: 0 };
  const fail = (field: string, message: string) => {
    found.count++;
    report(`${at}.${field}`, message);
  };
  const { name, type } = entry;
  if (typeof name !== 'string' || !NAME.test(name) || name.length > 256) {
    fail(
      'name',
      `must be the script's hyperparameter name, lower-case with underscores; got ${JSON.stringify(name)}`,
    );
  }
  if (type === 'categorical') {
    const values = entry.values;
    if (!Array.isArray(values) || values.length === 0) {
      fail('values', 'must be a non-empty array');
    } else {
      if (values.length > MAX_CATEGORICAL_VALUES) {
        fail('values', `at most ${MAX_CATEGORICAL_VALUES} values; got ${values.length}`);
      }
      values.forEach((value: unknown, j: number) => {
        if (!['string', 'number', 'boolean'].includes(typeof value) || String(value).length > 256) {
          fail(`values[${j}]`, `must be a string, number or boolean of at most 256 characters`);
        }
      });
      if (new Set(values.map(String)).size !== values.length) fail('values', 'must not repeat a value');
    }
    return found.count === 0
      ? { name: name as string, type, values: values as (string | number | boolean)[] }
      : undefined;
  }
  if (type !== 'continuous' && type !== 'integer') {
    fail('type', `must be "continuous", "integer" or "categorical"; got ${JSON.stringify(type)}`);
    return undefined;
  }
  const { min, max } = entry;
  const scale = (entry.scale ?? 'linear') as unknown;
  if (!isNumber(min)) fail('min', `must be a number; got ${JSON.stringify(min)}`);
  if (!isNumber(max)) fail('max', `must be a number; got ${JSON.stringify(max)}`);
  if (isNumber(min) && isNumber(max) && !(min < max))
    fail('max', `must be greater than min (${min}); got ${max}`);
  if (type === 'integer') {
    if (isNumber(min) && !Number.isInteger(min)) fail('min', `must be an integer; got ${min}`);
    if (isNumber(max) && !Number.isInteger(max)) fail('max', `must be an integer; got ${max}`);
  }
  if (scale !== 'log' && scale !== 'linear') {
    fail('scale', `must be "log" or "linear"; got ${JSON.stringify(scale)}`);
  } else if (scale === 'log' && isNumber(min) && min <= 0) {
    // https://docs.aws.amazon.com/sagemaker/latest/dg/automatic-model-tuning-define-ranges.html#scaling-type
    fail('min', `a log scale needs values greater than 0; got ${min}`);
  }
  return found.count === 0
    ? { name: name as string, type, min: min as number, max: max as number, scale: scale as 'log' | 'linear' }
    : undefined;
}

/**
 * The tuning job's `ParameterRanges` for a search space: values as strings, as the API takes them;
 * `log` becomes `Logarithmic`, `linear` `Linear`
 * (https://docs.aws.amazon.com/sagemaker/latest/dg/automatic-model-tuning-define-ranges.html).
 */
export function parameterRanges(space: SearchSpace): TaskParameters<ParameterRanges> {
  const scaling = (scale: 'log' | 'linear') =>
    scale === 'log' ? ('Logarithmic' as const) : ('Linear' as const);
  const numeric = (type: 'continuous' | 'integer') =>
    space.parameters.flatMap((p) =>
      p.type === type
        ? [{ Name: p.name, MinValue: String(p.min), MaxValue: String(p.max), ScalingType: scaling(p.scale) }]
        : [],
    );
  const categorical = space.parameters.flatMap((p) =>
    p.type === 'categorical' ? [{ Name: p.name, Values: p.values.map(String) }] : [],
  );
  return {
    ...(numeric('continuous').length ? { ContinuousParameterRanges: numeric('continuous') } : {}),
    ...(numeric('integer').length ? { IntegerParameterRanges: numeric('integer') } : {}),
    ...(categorical.length ? { CategoricalParameterRanges: categorical } : {}),
  };
}
