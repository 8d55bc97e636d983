import {
  captureOutput,
  lambdaContext,
  logLines,
  metricsLines,
  type StdoutCapture,
} from '../support/invocation';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { ParseError } from '@aws-lambda-powertools/parser';
import { z } from 'zod';
import { customResourceEvent } from '../../../../lambda/platform/shared/custom-resource-event';
import {
  INVALID_EVENT_METRIC,
  fields,
  lambdaEntry,
  parseEvent,
  powertools,
} from '../../../../lambda/platform/shared/lambda-entry';

const tools = powertools();
const Event = fields.object({ bucket: fields.text(), count: fields.positiveInteger() });

let stdout: StdoutCapture;
beforeEach(() => {
  stdout = captureOutput();
});
afterEach(() => stdout.restore());

/** An entry whose handling logs one line and counts the event's `count`, or throws on `fail`. */
function entry(fail = false) {
  const seen: unknown[] = [];
  const handler = lambdaEntry(tools, Event, async (event) => {
    seen.push(event);
    tools.metrics.addMetric('Things', MetricUnit.Count, event.count);
    tools.logger.info('handled', { bucket: event.bucket });
    if (fail) throw new Error('the work failed');
    return { ok: true };
  });
  return { handler, seen };
}

describe('the Lambda entry', () => {
  it('logs with the request id of each invocation and flushes its metrics after each one', async () => {
    // GIVEN an entry
    const { handler } = entry();
    // WHEN it is invoked twice
    await handler({ bucket: 'b', count: 3 }, lambdaContext('request-1'));
    await handler({ bucket: 'b', count: 5 }, lambdaContext('request-2'));
    // THEN each line names its invocation's request id
    const handled = logLines(stdout).filter((line) => line.message === 'handled');
    expect(handled.map((line) => line.function_request_id)).toEqual(['request-1', 'request-2']);
    expect(handled[0]).toMatchObject({ function_name: 'task-under-test', bucket: 'b' });
    // AND each invocation's metrics were written once, by the time it returned, none carried over
    const things = metricsLines(stdout).filter((line) => line.names.includes('Things'));
    expect(things.map((line) => line.values.Things)).toEqual([3, 5]);
  });

  it('flushes the metrics of an invocation that fails', async () => {
    const { handler } = entry(true);
    await expect(handler({ bucket: 'b', count: 2 }, lambdaContext('request-3'))).rejects.toThrow(
      'the work failed',
    );
    expect(metricsLines(stdout).filter((line) => line.names.includes('Things'))).toHaveLength(1);
  });

  it("refuses an event off its schema with the parser's error naming each bad field, before the handling", async () => {
    // GIVEN an entry
    const { handler, seen } = entry();
    // WHEN the event lacks one field and has the wrong type for another
    const error = await handler({ count: 'three' }, lambdaContext('request-4')).catch((e: unknown) => e);
    // THEN the parser's error names both, the handling never ran, and the refusal was counted
    expect(error).toBeInstanceOf(ParseError);
    expect((error as Error).message).toBe('invalid event: bucket is missing; count must be an integer');
    expect(seen).toEqual([]);
    expect(metricsLines(stdout).flatMap((line) => line.names)).toContain(INVALID_EVENT_METRIC);
  });

  it('writes nothing for an invocation that stored no metric: no empty metrics line, no warning', async () => {
    // GIVEN an entry whose handling (a custom resource's create) stores no metric
    const quiet = lambdaEntry(tools, Event, async () => ({ done: true }));
    // WHEN it is invoked twice (the second is no cold start)
    await quiet({ bucket: 'b', count: 1 }, lambdaContext('request-6'));
    const before = stdout.lines.length;
    await quiet({ bucket: 'b', count: 1 }, lambdaContext('request-7'));
    // THEN the library's flush wrote nothing, not even its warning about the empty flush
    expect(stdout.lines.slice(before)).toEqual([]);
  });

  it('says what the event is when it is not an object at all', async () => {
    const { handler } = entry();
    await expect(handler(null, lambdaContext('request-5'))).rejects.toThrow(
      'invalid event: the event must be an object',
    );
  });
});

describe('event messages', () => {
  it('describes the union branch closest to the event', () => {
    const Location = z.union([
      fields.object({ archiveKey: fields.text(), member: fields.text() }),
      fields.object({ key: fields.text() }),
    ]);
    expect(() => parseEvent(Location, { archiveKey: 'a.tar.gz' })).toThrow(
      'invalid event: member is missing',
    );
    expect(() => parseEvent(Location, { key: 7 })).toThrow('invalid event: key must be a string');
  });

  it('names nested fields and array items by their path', () => {
    const Nested = fields.object({ items: z.array(fields.object({ id: fields.text() })) });
    expect(() => parseEvent(Nested, { items: [{ id: 'a' }, { id: '' }] })).toThrow(
      'invalid event: items[1].id must not be empty',
    );
  });

  it('reads a custom resource event: its request type and its properties', () => {
    const Resource = customResourceEvent(fields.object({ Name: fields.text() }));
    expect(
      parseEvent(Resource, {
        RequestType: 'Delete',
        RequestId: 'r',
        ResponseURL: '...',
        ResourceProperties: { ServiceToken: 'arn', Name: 'n' },
      }),
    ).toEqual({ RequestType: 'Delete', ResourceProperties: { Name: 'n' } });
    expect(() => parseEvent(Resource, { RequestType: 'Replace', ResourceProperties: {} })).toThrow(
      'invalid event: RequestType must be Create, Update or Delete',
    );
    expect(() => parseEvent(Resource, { RequestType: 'Create', ResourceProperties: {} })).toThrow(
      'invalid event: ResourceProperties.Name is missing',
    );
  });
});
