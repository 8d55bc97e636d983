import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { apiCheckedMockClient } from '../../../../support/aws-api-model/mock';
import {
  ACCOUNTS_KEY,
  BadRequestError,
  batches,
  countDelivered,
  drive,
  EVENTS_PER_REQUEST,
  generate,
  importAccounts,
  postEvents,
  rawDayPrefix,
  recommendations,
  type DriverDeps,
} from './handler';
import { signRequest } from './sigv4';

const s3Mock = apiCheckedMockClient(S3Client);
const lambdaMock = apiCheckedMockClient(LambdaClient);
afterEach(() => {
  s3Mock.reset();
  lambdaMock.reset();
});

const NOW = Date.parse('2026-03-10T12:00:00Z');
const SPEC = { users: 20, days: 2, seed: 7 };
const CREDENTIALS = { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret', sessionToken: 'token' };

interface Received {
  method: string;
  path: string;
  body: string;
  /** The signature recomputed from what arrived equals the one sent. */
  signatureValid: boolean;
}

/** A stand-in for the API stage on loopback that checks every request's SigV4 signature. */
async function startApi(answer: (request: Received) => { status: number; body: unknown }) {
  const received: Received[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const date = String(req.headers['x-amz-date']);
      const resigned = signRequest({
        method: req.method!,
        url: `http://${req.headers.host}${req.url}`,
        headers: req.headers['content-type'] ? { 'content-type': String(req.headers['content-type']) } : {},
        body: body || undefined,
        region: 'us-east-1',
        service: 'execute-api',
        credentials: CREDENTIALS,
        now: new Date(
          `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 11)}:${date.slice(11, 13)}:${date.slice(13, 15)}Z`,
        ),
      });
      const request = {
        method: req.method!,
        path: req.url!,
        body,
        signatureValid: resigned.headers.authorization === req.headers.authorization,
      };
      received.push(request);
      const { status, body: out } = answer(request);
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(out));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    received,
    url: `http://127.0.0.1:${port}/live/`,
    close: () => new Promise((r) => server.close(r)),
  };
}

function deps(apiUrl: string, overrides: Partial<DriverDeps> = {}): DriverDeps & { slept: number[] } {
  const slept: number[] = [];
  return {
    config: {
      apiUrl,
      region: 'us-east-1',
      credentials: CREDENTIALS,
      rawBucket: 'raw-bucket',
      accountsImportFunction: 'accounts-import',
    },
    s3: new S3Client({ region: 'us-east-1' }),
    lambda: new LambdaClient({ region: 'us-east-1' }),
    fetch,
    now: () => NOW,
    remainingMs: () => 90_000,
    sleep: async (ms) => {
      slept.push(ms);
    },
    slept,
    ...overrides,
  };
}

/** A Lambda Invoke payload as the SDK returns it. */
const payload = (value: unknown) => {
  const text = JSON.stringify(value);
  return Object.assign(new TextEncoder().encode(text), { transformToString: () => text });
};

const accepted = (request: Received) => {
  const events = (JSON.parse(request.body) as { events: unknown[] }).events;
  return {
    status: 202,
    body: { acceptedCount: events.length, rejectedCount: 0, accepted: [], rejected: [] },
  };
};

describe('the generated data set', () => {
  test('is the same for the same spec, every event valid and in the past', () => {
    const a = generate(SPEC, NOW);
    const b = generate(SPEC, NOW);
    expect(a.events).toEqual(b.events);
    expect(a.events.length).toBeGreaterThan(EVENTS_PER_REQUEST);
    expect(new Set(a.events.map((e) => e.event_id)).size).toBe(a.events.length);
    expect(a.events.every((e) => Date.parse(e.ts as string) < Date.parse('2026-03-10T00:00:00Z'))).toBe(true);
    expect(a.accountsCsv.toString('utf8').trim().split('\n')).toHaveLength(SPEC.users + 1);
  });
});

describe('postEvents', () => {
  test('posts every event once, signed, at most 500 a request', async () => {
    // GIVEN an API that accepts everything
    const api = await startApi(accepted);
    try {
      // WHEN
      const result = await postEvents(deps(api.url), SPEC);
      // THEN
      const { events } = generate(SPEC, NOW);
      const posted = api.received.flatMap(
        (r) => (JSON.parse(r.body) as { events: { event_id: string }[] }).events,
      );
      expect(posted.map((e) => e.event_id).sort()).toEqual(events.map((e) => e.event_id as string).sort());
      expect(api.received.every((r) => r.method === 'POST' && r.path === '/live/v1/events')).toBe(true);
      expect(api.received.every((r) => r.signatureValid)).toBe(true);
      expect(
        Math.max(...api.received.map((r) => (JSON.parse(r.body) as { events: unknown[] }).events.length)),
      ).toBe(EVENTS_PER_REQUEST);
      expect(result).toEqual({
        day: '2026-03-10',
        events: events.length,
        requests: Math.ceil(events.length / EVENTS_PER_REQUEST),
        failedRequests: 0,
        accepted: events.length,
        rejected: 0,
        firstProblem: undefined,
      });
    } finally {
      await api.close();
    }
  });

  test('resends a batch answered 503 or 429 after a backoff, and counts it once', async () => {
    let refusals = 2;
    const api = await startApi((request) =>
      refusals-- > 0
        ? { status: refusals === 1 ? 503 : 429, body: { error: 'Unavailable' } }
        : accepted(request),
    );
    try {
      const d = deps(api.url);
      const result = await postEvents(d, SPEC);
      expect(result.failedRequests).toBe(0);
      expect(result.accepted).toBe(result.events);
      expect(d.slept).toHaveLength(2);
    } finally {
      await api.close();
    }
  });

  test('counts a refused request and rejected events, and says why', async () => {
    let first = true;
    const api = await startApi((request) => {
      if (first) {
        first = false;
        return { status: 400, body: { error: 'BadRequest', message: 'events: too many' } };
      }
      const { body } = accepted(request);
      return {
        status: 202,
        body: {
          ...body,
          acceptedCount: body.acceptedCount - 1,
          rejectedCount: 1,
          rejected: [{ index: 0, reason: 'x' }],
        },
      };
    });
    try {
      const result = await postEvents(deps(api.url), SPEC);
      expect(result.failedRequests).toBe(1);
      expect(result.rejected).toBe(result.requests - 1);
      expect(result.firstProblem).toMatch(/400 .*too many/);
      expect(api.received).toHaveLength(result.requests); // a 400 is not retried
    } finally {
      await api.close();
    }
  });

  test('stops before the invocation runs out of time and reports what was not sent', async () => {
    const api = await startApi(accepted);
    try {
      const result = await postEvents(deps(api.url, { remainingMs: () => 5_000 }), SPEC);
      expect(api.received).toHaveLength(0);
      expect(result.failedRequests).toBe(result.requests);
      expect(result.firstProblem).toMatch(/ran out of time/);
    } finally {
      await api.close();
    }
  });
});

describe('recommendations', () => {
  test('a signed GET of the user, summarised', async () => {
    const api = await startApi(() => ({
      status: 200,
      body: {
        userId: 'u1',
        source: 'cache',
        items: [
          { artistId: 'a1', score: 0.5 },
          { artistId: 'a2', score: 0.4 },
        ],
      },
    }));
    try {
      const result = await recommendations(deps(api.url), 'u1', 5);
      expect(api.received).toEqual([
        expect.objectContaining({
          method: 'GET',
          path: '/live/v1/users/u1/recommendations?limit=5',
          signatureValid: true,
        }),
      ]);
      expect(result).toEqual({ status: 200, source: 'cache', items: 2, error: undefined });
    } finally {
      await api.close();
    }
  });

  test('an error answer is kept for the assertion message', async () => {
    const api = await startApi(() => ({ status: 403, body: { error: 'ACCESS_DENIED', message: 'no' } }));
    try {
      const result = await recommendations(deps(api.url), 'u1', 5);
      expect(result.status).toBe(403);
      expect(result.error).toContain('ACCESS_DENIED');
    } finally {
      await api.close();
    }
  });
});

describe('importAccounts', () => {
  test('uploads the accounts CSV and runs the import on it', async () => {
    s3Mock.on(PutObjectCommand).resolves({});
    lambdaMock.on(InvokeCommand).resolves({
      StatusCode: 200,
      Payload: payload({ rows: 20, upserted: 20, badLines: 0, badLineSamples: [] }),
    });
    const result = await importAccounts(deps('http://unused/'), SPEC);
    expect(result).toEqual({ rows: 20, upserted: 20, badLines: 0 });
    const put = s3Mock.commandCalls(PutObjectCommand)[0].args[0].input;
    expect(put).toMatchObject({ Bucket: 'raw-bucket', Key: ACCOUNTS_KEY });
    expect(String(put.Body)).toBe(generate(SPEC, NOW).accountsCsv.toString('utf8'));
    const invoke = lambdaMock.commandCalls(InvokeCommand)[0].args[0].input;
    expect(invoke.FunctionName).toBe('accounts-import');
    expect(JSON.parse(Buffer.from(invoke.Payload as Uint8Array).toString('utf8'))).toEqual({
      bucket: 'raw-bucket',
      key: ACCOUNTS_KEY,
    });
  });

  test('a failed import fails with its message', async () => {
    s3Mock.on(PutObjectCommand).resolves({});
    lambdaMock.on(InvokeCommand).resolves({
      StatusCode: 200,
      FunctionError: 'Unhandled',
      Payload: payload({ errorType: 'InvalidFileError', errorMessage: 'bad header' }),
    });
    await expect(importAccounts(deps('http://unused/'), SPEC)).rejects.toThrow(
      /accounts import failed.*bad header/,
    );
  });
});

describe('countDelivered', () => {
  const object = (lines: object[]) => ({
    Body: {
      transformToByteArray: async () => gzipSync(lines.map((l) => JSON.stringify(l)).join('\n') + '\n'),
    },
  });

  test("counts the data set's events in today's partition, once each, and those in yesterday's apart", async () => {
    // GIVEN today's partition holds all events but the last two (one of them twice, plus a stranger's),
    // and yesterday's partition holds one of the missing two
    const ids = generate(SPEC, NOW).events.map((e) => e.event_id as string);
    const today = ids.slice(0, -2).map((event_id) => ({ event_id }));
    s3Mock
      .on(ListObjectsV2Command, { Prefix: rawDayPrefix('2026-03-10') })
      .resolves({
        Contents: [{ Key: 'raw/2026/03/10/12/a.jsonl.gz' }, { Key: 'raw/2026/03/10/12/b.jsonl.gz' }],
      })
      .on(ListObjectsV2Command, { Prefix: rawDayPrefix('2026-03-09') })
      .resolves({ Contents: [{ Key: 'raw/2026/03/09/23/c.jsonl.gz' }] })
      .on(GetObjectCommand, { Key: 'raw/2026/03/10/12/a.jsonl.gz' })
      .resolves(object(today.slice(0, 10)) as never)
      .on(GetObjectCommand, { Key: 'raw/2026/03/10/12/b.jsonl.gz' })
      .resolves(object([...today.slice(5), { event_id: 'someone-else' }]) as never)
      .on(GetObjectCommand, { Key: 'raw/2026/03/09/23/c.jsonl.gz' })
      .resolves(object([{ event_id: ids[ids.length - 1] }]) as never);
    // WHEN
    const result = await countDelivered(deps('http://unused/'), SPEC);
    // THEN
    expect(result).toEqual({
      expected: ids.length,
      day: '2026-03-10',
      delivered: ids.length - 2,
      missing: 2,
      elsewhere: 1,
    });
  });

  test('nothing delivered yet: every event is missing from today', async () => {
    s3Mock.on(ListObjectsV2Command).resolves({ Contents: [] });
    const result = await countDelivered(deps('http://unused/'), SPEC);
    expect(result).toMatchObject({ day: '2026-03-10', delivered: 0, missing: result.expected });
  });
});

describe('drive', () => {
  test.each([
    [{ op: 'recommendations', userId: 'a b', limit: 5 }, /userId must be/],
    [{ op: 'recommendations', userId: 'u1', limit: 0 }, /limit must be/],
    [{ op: 'post-events', users: 5, days: 2, seed: 1 }, /users must be an integer in \[20, 5000\]/],
    [{ op: 'count-delivered', users: 20, days: 'x', seed: 1 }, /days must be an integer/],
    [{ op: 'nope' }, /op must be one of .*got "nope"/],
  ])('refuses %j with a clear error', async (request, message) => {
    await expect(drive(deps('http://unused/'), request as never)).rejects.toThrow(message);
    await expect(drive(deps('http://unused/'), request as never)).rejects.toBeInstanceOf(BadRequestError);
  });

  test('batches splits into chunks of the size, the last one shorter', () => {
    expect(batches([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(() => batches([1], 0)).toThrow(/positive integer/);
  });
});
