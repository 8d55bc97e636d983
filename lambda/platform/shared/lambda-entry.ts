/**
 * A function's Powertools utilities (`powertools`), and the Lambda entry of the task and custom
 * resource handlers (Step Functions tasks, CloudFormation custom resources, direct invocations):
 * Powertools' parser checks the event against the handler's schema, and a bad one fails with a
 * ParseError that names every bad field; the logger adds the Lambda context (request id, function,
 * cold start) to every line; the metrics are flushed by the library after every invocation, failed
 * ones included, with a cold start metric; the invocation is traced (every BundledFunction has
 * active tracing). What the handler does stays a plain function that tests and local runs call
 * without the wrapping.
 */
import type { LambdaInterface } from '@aws-lambda-powertools/commons/types';
import { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import { ParseError, parse, parser } from '@aws-lambda-powertools/parser';
import { Tracer } from '@aws-lambda-powertools/tracer';
import type { Context } from 'aws-lambda';
import { z } from 'zod';

/** A function's Powertools utilities, built once per container at module load. */
export interface Powertools {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly tracer: Tracer;
}

/** How the metrics library's warning about a flush with nothing stored begins. */
export const EMPTY_FLUSH_WARNING = 'No application metrics to publish';

/**
 * The logger, and metrics that write their own warnings through it. Some invocations store no
 * metric (a custom resource's create, the serving function's cache hit), and the flush would warn
 * about it on every one of them: that warning, and only that one, is not logged.
 */
export function powertools(): Powertools {
  const logger = new Logger();
  const metrics = new Metrics({
    logger: {
      debug: () => undefined,
      info: () => undefined,
      warn: (message: unknown, ...rest: unknown[]) => {
        if (!String(message).startsWith(EMPTY_FLUSH_WARNING)) logger.warn(String(message), ...(rest as []));
      },
      error: (message: unknown, ...rest: unknown[]) => logger.error(String(message), ...(rest as [])),
    },
  });
  return { logger, metrics, tracer: new Tracer() };
}

/** Counted once for an invocation whose event does not match the handler's schema. */
export const INVALID_EVENT_METRIC = 'InvalidEvent';

/** Where an issue is, as a reader writes it: `ResourceProperties.User`, `items[2].id`. */
function fieldName(path: readonly PropertyKey[]): string {
  return path
    .map((part, i) => (typeof part === 'number' ? `[${part}]` : `${i === 0 ? '' : '.'}${String(part)}`))
    .join('');
}

/**
 * One sentence per bad field: the field's name, then the schema's message (`bucket is missing`,
 * `onlyIfEmpty must be a boolean`). Of the branches of a union, the one closest to the event
 * (fewest problems) is described: the event meant that shape.
 */
export function describeIssues(
  issues: readonly z.core.$ZodIssue[],
  prefix: readonly PropertyKey[] = [],
): string[] {
  return issues.flatMap((issue) => {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      const closest = [...issue.errors].sort((a, b) => a.length - b.length)[0];
      return describeIssues(closest, path);
    }
    return [path.length === 0 ? `the event ${issue.message}` : `${fieldName(path)} ${issue.message}`];
  });
}

/** The parser's error for an event that does not match its schema, naming every bad field. */
export function invalidEvent(error: ParseError): ParseError {
  const issues = Array.isArray(error.cause) ? (error.cause as z.core.$ZodIssue[]) : [];
  const problems = describeIssues(issues);
  return new ParseError(problems.length > 0 ? `invalid event: ${problems.join('; ')}` : error.message, {
    cause: error.cause,
  });
}

/** Parses `event` as the entry does, for callers that hold an event of unknown shape. */
export function parseEvent<S extends z.ZodType>(schema: S, event: unknown): z.output<S> {
  try {
    return parse(event, undefined, schema) as z.output<S>;
  } catch (error) {
    throw error instanceof ParseError ? invalidEvent(error) : error;
  }
}

/** Says "is missing" for an absent field, else `otherwise`. */
const missingOr =
  (otherwise: string) =>
  (issue: { input?: unknown }): string =>
    issue.input === undefined ? 'is missing' : otherwise;

/** Schemas of event fields whose messages read after the field's name in the parser's error. */
export const fields = {
  /** The root of an event, or an object inside it. */
  object: <T extends z.core.$ZodLooseShape>(shape: T) => z.object(shape, { error: 'must be an object' }),
  /** A non-empty string. */
  text: () => z.string({ error: missingOr('must be a string') }).min(1, { error: 'must not be empty' }),
  /** An ISO-8601 date and time with a zone, e.g. `2026-02-15T00:00:00.000Z`, kept as text. */
  timestamp: () =>
    z.iso.datetime({ offset: true, error: missingOr('must be an ISO-8601 timestamp with a zone') }),
  /** An integer of at least 1. */
  positiveInteger: () =>
    z.int({ error: missingOr('must be an integer') }).min(1, { error: 'must be at least 1' }),
  /** A finite number above 0. */
  positiveNumber: () =>
    z.number({ error: missingOr('must be a number') }).positive({ error: 'must be above 0' }),
  /** A boolean. */
  boolean: () => z.boolean({ error: missingOr('must be a boolean') }),
  /** One of `choices`. */
  oneOf: <const T extends readonly [string, ...string[]]>(choices: T) =>
    z.enum(choices, { error: missingOr(`must be one of ${choices.join(', ')}`) }),
};

/**
 * The Lambda entry over `handle`: the invocation's event is parsed with `schema` before `handle`
 * sees it. An event that does not match fails with the ParseError of `invalidEvent`, is counted
 * as INVALID_EVENT_METRIC and never reaches `handle`. The response is not added to the trace: the
 * caller (Step Functions, CloudFormation) keeps it, and it may be larger than a trace segment holds.
 */
export function lambdaEntry<S extends z.ZodType, R>(
  tools: Powertools,
  schema: S,
  handle: (event: z.output<S>, context: Context) => Promise<R>,
): (event: unknown, context: Context) => Promise<R> {
  const { logger, metrics, tracer } = tools;

  class Entry implements LambdaInterface {
    @tracer.captureLambdaHandler({ captureResponse: false })
    @logger.injectLambdaContext()
    @metrics.logMetrics({ captureColdStartMetric: true })
    @parser({
      schema,
      errorHandler: (error) => {
        metrics.addMetric(INVALID_EVENT_METRIC, MetricUnit.Count, 1);
        throw invalidEvent(error);
      },
    })
    public async handler(event: z.output<S>, context: Context): Promise<R> {
      return handle(event, context);
    }
  }

  const entry = new Entry();
  return entry.handler.bind(entry) as (event: unknown, context: Context) => Promise<R>;
}
