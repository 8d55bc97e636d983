/**
 * Evaluates the JSONata of a lowered JSONata state: every string of `Output` written
 * `{% expression %}` is evaluated with `$states` bound to `{ input, context }`; other values are
 * literal. https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html
 */
import jsonata from 'jsonata';
import { StepFunctionsError } from './integrations';

const EXPRESSION = /^\{%([\s\S]*)%\}$/;

export async function evaluateJsonataTemplate(
  template: unknown,
  states: { input: unknown; context: unknown },
): Promise<unknown> {
  if (typeof template === 'string') {
    const match = EXPRESSION.exec(template.trim());
    if (!match) return template;
    let value: unknown;
    try {
      value = await jsonata(match[1]).evaluate({}, { states });
    } catch (error) {
      // What Step Functions raises for an expression that fails.
      throw new StepFunctionsError('States.QueryEvaluationError', (error as Error).message);
    }
    if (value === undefined) {
      throw new StepFunctionsError('States.QueryEvaluationError', `${template} evaluated to no value`);
    }
    return value;
  }
  if (Array.isArray(template)) {
    return Promise.all(template.map((item) => evaluateJsonataTemplate(item, states)));
  }
  if (template !== null && typeof template === 'object') {
    const entries = await Promise.all(
      Object.entries(template).map(async ([key, item]) => [key, await evaluateJsonataTemplate(item, states)]),
    );
    return Object.fromEntries(entries);
  }
  return template;
}
