import { encodeList } from '../../../../../lambda/artist-recommender/shared/cache-layout';
import { Readable } from 'node:stream';
import type { Cluster } from 'iovalkey';
import { readLoaderConfig } from '../../../../../lambda/artist-recommender/cache-loader/config';
import { parseEvent } from '../../../../../lambda/artist-recommender/cache-loader/handler';
import { UserIdSet } from '../../../../../lambda/artist-recommender/cache-loader/id-set';
import { readLineBatches } from '../../../../../lambda/artist-recommender/cache-loader/lines';
import { keySlot } from '../../../../../lambda/artist-recommender/cache-loader/slots';
import {
  parsePopularity,
  parseUserLine,
} from '../../../../../lambda/artist-recommender/cache-loader/validate';
import { deriveVersion } from '../../../../../lambda/artist-recommender/cache-loader/version';
import { PipelinedWriter } from '../../../../../lambda/artist-recommender/cache-loader/writer';
import {
  KEY_PART_PATTERN,
  loadedMarkerKey,
  loadingKey,
  popularKey,
  userKey,
  versionOfKey,
} from '../../../../../lambda/artist-recommender/shared/cache-layout';

async function collect(chunks: Iterable<string | Buffer>, maxLineBytes = 1024) {
  const lines: [number, string | null][] = [];
  for await (const batch of readLineBatches(Readable.from(chunks), maxLineBytes)) {
    batch.lines.forEach((line, i) => lines.push([batch.firstLineNumber + i, line]));
  }
  return lines;
}

describe('readLineBatches', () => {
  it('numbers lines across chunk boundaries and keeps a last line without a newline', async () => {
    expect(await collect(['a\nb', 'c\r\n\nd\n', 'e'])).toEqual([
      [1, 'a'],
      [2, 'bc'],
      [3, ''],
      [4, 'd'],
      [5, 'e'],
    ]);
  });

  it('does not invent a line after the final newline', async () => {
    expect(await collect(['a\n', 'b\n'])).toEqual([
      [1, 'a'],
      [2, 'b'],
    ]);
  });

  it('drops a byte order mark at the start, even split between chunks, and keeps one elsewhere', async () => {
    const bytes = Buffer.from('\ufeff{"a":1}\n\ufeffb\n');
    expect(await collect([bytes.subarray(0, 2), bytes.subarray(2)])).toEqual([
      [1, '{"a":1}'],
      [2, '\ufeffb'],
    ]);
  });

  it('decodes a multi-byte character split between chunks', async () => {
    const bytes = Buffer.from('é\n');
    expect(await collect([bytes.subarray(0, 1), bytes.subarray(1)])).toEqual([[1, 'é']]);
  });

  it('hands out a line longer than the limit as null, in its place, and goes on', async () => {
    expect(
      await collect(
        ['ok\n', 'x'.repeat(600), 'x'.repeat(600), 'x\nnext\n', 'y'.repeat(1001) + '\nlast'],
        1000,
      ),
    ).toEqual([
      [1, 'ok'],
      [2, null],
      [3, 'next'],
      // Whole inside one chunk, and still over the limit.
      [4, null],
      [5, 'last'],
    ]);
  });

  it('hands out a final over-long line without a newline as null', async () => {
    expect(await collect(['a\n', 'x'.repeat(700), 'x'.repeat(700)], 1000)).toEqual([
      [1, 'a'],
      [2, null],
    ]);
  });

  it('drops an over-long line as it streams, never holding it: 600 million characters pass', async () => {
    // Longer than the longest string V8 can hold (2^29 - 24 characters): a reader that kept the line
    // would fail with "Invalid string length".
    const mib = Buffer.alloc(1024 * 1024, 'x');
    const chunks = function* () {
      yield Buffer.from('{"first": 1}\n');
      for (let i = 0; i < 600; i++) yield mib;
      // A multi-byte character cut at the end of the dropped line must not leak into the next one.
      const cut = Buffer.from('é');
      yield cut.subarray(0, 1);
      yield Buffer.concat([cut.subarray(1), Buffer.from('\n{"after": 2}\n')]);
    };
    expect(await collect(chunks(), 1024 * 1024)).toEqual([
      [1, '{"first": 1}'],
      [2, null],
      [3, '{"after": 2}'],
    ]);
  });
});

describe('UserIdSet', () => {
  it('answers like a Set across many ids, growing its table and its bytes', () => {
    const ids = new UserIdSet();
    const reference = new Set<string>();
    // 100,000 distinct ids of varied lengths (table and byte-buffer growths), each added twice.
    const idOf = (i: number) => `${'u'.repeat(i % 7)}user.${i.toString(36)}-${i % 13}`;
    const disagreements: string[] = [];
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 100_000; i++) {
        const id = idOf(i);
        if (ids.add(id) === reference.has(id)) disagreements.push(`${id} in round ${round}`);
        reference.add(id);
      }
    }
    expect(disagreements.slice(0, 5)).toEqual([]);
    expect(ids.size).toBe(100_000);
  });

  it('tells apart ids that share a prefix or differ in one character', () => {
    const ids = new UserIdSet();
    const longest = 'x'.repeat(128);
    for (const id of ['a', 'aa', 'ab', 'ba', 'A', longest, longest.slice(0, 127) + 'y'])
      expect(ids.add(id)).toBe(true);
    for (const id of ['a', 'aa', longest]) expect(ids.add(id)).toBe(false);
    expect(ids.size).toBe(7);
  });

  it.each([
    ['', /1 to 128 characters/],
    ['x'.repeat(129), /1 to 128 characters/],
    ['usér', /ASCII/],
  ])('refuses %j', (id, message) => {
    const ids = new UserIdSet();
    expect(() => ids.add(id)).toThrow(message);
    expect(ids.size).toBe(0);
  });
});

describe('parseUserLine', () => {
  const line = (fields: Record<string, unknown>) =>
    JSON.stringify({
      user_id: 'u1',
      items: [{ artistId: 'a1', score: 0.5 }],
      model_version: 'm1',
      ...fields,
    });

  it('accepts a line, and only the checked fields reach the cache', () => {
    const parsed = parseUserLine(line({ items: [{ artistId: 'a1', score: 0.5, extra: 1 }] }), 'm1');
    expect(parsed).toMatchObject({ ok: true, value: { userId: 'u1', list: { modelVersion: 'm1' } } });
    expect(parsed.ok && JSON.parse(encodeList(parsed.value.list))).toEqual({
      modelVersion: 'm1',
      items: [{ artistId: 'a1', score: 0.5 }],
    });
  });

  it.each([
    ['', 'empty line'],
    ['{', 'not valid JSON'],
    ['[1]', 'not a JSON object'],
    [line({ user_id: 'u:1' }), 'user_id'],
    [line({ user_id: 7 }), 'user_id'],
    [line({ model_version: 'm2' }), 'model_version'],
    [line({ items: {} }), 'items is not an array'],
    [line({ items: [{ artistId: '', score: 0.5 }] }), 'items[0]'],
    [line({ items: [{ artistId: 'a', score: 1.5 }] }), 'items[0]'],
    [line({ items: [{ artistId: 'a1', score: 1 }] }).replace('1}', '1e400}'), 'items[0]'],
    // What the line decoder leaves for bytes that were not UTF-8: two ids that lost different bytes
    // would be served as one id that the model never named.
    [line({ items: [{ artistId: 'a\ufffd', score: 0.5 }] }), 'items[0].artistId holds U+FFFD'],
    [line({ items: [{ artistId: 'a\u0000', score: 0.5 }] }), 'items[0].artistId holds a NUL'],
    [line({ items: [{ artistId: ' a1', score: 0.5 }] }), 'items[0].artistId starts or ends with whitespace'],
  ])('rejects %s', (text, reason) => {
    const parsed = parseUserLine(text, 'm1');
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason).toContain(reason);
  });
});

describe('parsePopularity', () => {
  it('accepts the training job output', () => {
    expect(parsePopularity('{"model_version": "m1", "items": [{"artistId": "a", "score": 0.4}]}')).toEqual({
      modelVersion: 'm1',
      items: [{ artistId: 'a', score: 0.4 }],
    });
  });

  it.each([
    'nope',
    '{"items": []}',
    '{"model_version": "m", "items": []}',
    '{"model_version": "m", "items": [{"artistId": "a", "score": -0.1}]}',
    '{"model_version": "m", "items": [{"artistId": "a\ufffd", "score": 0.1}]}',
    '{"model_version": "m", "items": [{"artistId": "a", "score": 0.2}, {"artistId": "a", "score": 0.1}]}',
  ])('rejects %s', (text) => expect(() => parsePopularity(text)).toThrow(/popularity/));
});

describe('deriveVersion', () => {
  const inputs = {
    modelVersion: 'job-2026-11-26',
    recommendationsEtag: '"e1"',
    popularityEtag: '"p1"',
    variant: 'champion',
  };

  it('is deterministic and changes with any input', () => {
    const version = deriveVersion(inputs);
    expect(version).toMatch(/^job-2026-11-26\.[0-9a-f]{16}$/);
    expect(deriveVersion({ ...inputs })).toBe(version);
    expect(deriveVersion({ ...inputs, recommendationsEtag: '"e2"' })).not.toBe(version);
    expect(deriveVersion({ ...inputs, popularityEtag: '"p2"' })).not.toBe(version);
    expect(deriveVersion({ ...inputs, variant: 'challenger' })).not.toBe(version);
  });

  it('stays within the key part pattern whatever the model version', () => {
    for (const modelVersion of ['a:b/c d', 'x'.repeat(500), '', '::']) {
      expect(deriveVersion({ ...inputs, modelVersion })).toMatch(KEY_PART_PATTERN);
    }
  });
});

describe('keySlot', () => {
  it('matches the server', () => {
    // Values from the Redis cluster specification and `CLUSTER KEYSLOT`.
    expect(keySlot('123456789')).toBe(0x31c3 % 16384);
    expect(keySlot('foo')).toBe(12182);
    expect(keySlot('{user1000}.following')).toBe(keySlot('{user1000}.followers'));
    expect(keySlot('foo{}{bar}')).toBe(keySlot('foo{}{bar}'));
    expect(keySlot('{}x')).not.toBe(keySlot('x'));
  });
});

describe('cache layout additions', () => {
  it('finds the version of every versioned key', () => {
    expect(versionOfKey(userKey('v1.ab', 'champion', 'u1'))).toBe('v1.ab');
    expect(versionOfKey(popularKey('v1'))).toBe('v1');
    expect(versionOfKey(loadedMarkerKey('v1'))).toBe('v1');
    expect(versionOfKey(loadingKey('v1'))).toBe('v1');
    expect(versionOfKey('recs:current')).toBeUndefined();
    expect(versionOfKey('recs:v:noend')).toBeUndefined();
    expect(versionOfKey('other:v:1:x')).toBeUndefined();
  });
});

describe('PipelinedWriter', () => {
  /** A stand-in cluster whose slots are split over two nodes, recording each pipeline. */
  function fakeCluster(failKey?: string) {
    const pipelines: string[][] = [];
    const slots = Array.from({ length: 16384 }, (_, slot) => (slot < 8192 ? ['a:1'] : ['b:1', 'b:2']));
    const client = {
      slots,
      pipeline: () => {
        const keys: string[] = [];
        const pipeline = {
          set: (key: string) => {
            keys.push(key);
            return pipeline;
          },
          exec: async () => {
            pipelines.push(keys);
            return keys.map((key) => (key === failKey ? [new Error('OOM'), null] : [null, 'OK']));
          },
        };
        return pipeline;
      },
    };
    return { client: client as unknown as Cluster, pipelines, slots };
  }

  it('splits every batch by node, never mixing nodes in one pipeline', async () => {
    const { client, pipelines, slots } = fakeCluster();
    const writer = new PipelinedWriter(client, { batchSize: 100, maxInFlight: 2 });
    for (let i = 0; i < 1050; i++) await writer.set(`recs:v:1:u:c:user-${i}`, 'x');
    await writer.close();
    expect(writer.acknowledged).toBe(1050);
    expect(pipelines.flat()).toHaveLength(1050);
    expect(new Set(pipelines.flat()).size).toBe(1050);
    for (const keys of pipelines) {
      expect(new Set(keys.map((key) => slots[keySlot(key)].join(';'))).size).toBe(1);
    }
    // Both nodes got their share of every full batch.
    expect(pipelines.length).toBeGreaterThanOrEqual(2 * 10);
  });

  it('fails the load when one command of a pipeline fails', async () => {
    const { client } = fakeCluster('recs:v:1:u:c:user-7');
    const writer = new PipelinedWriter(client, { batchSize: 5, maxInFlight: 1 });
    await expect(
      (async () => {
        for (let i = 0; i < 100; i++) await writer.set(`recs:v:1:u:c:user-${i}`, 'x');
        await writer.close();
      })(),
    ).rejects.toThrow('OOM');
  });
});

describe('parseEvent', () => {
  const event = { bucket: 'b', recommendationsKey: 'r.jsonl', popularityKey: 'p.json', variant: 'champion' };

  it('accepts the pipeline event with an optional version', () => {
    expect(parseEvent(event)).toEqual({ ...event, version: undefined });
    expect(parseEvent({ ...event, version: 'manual-1' }).version).toBe('manual-1');
  });

  it('passes onlyIfEmpty through when it is a boolean', () => {
    expect(parseEvent({ ...event, onlyIfEmpty: true })).toEqual({
      ...event,
      version: undefined,
      onlyIfEmpty: true,
    });
    expect(parseEvent({ ...event, onlyIfEmpty: false }).onlyIfEmpty).toBe(false);
    expect(parseEvent({ ...event, onlyIfEmpty: null })).not.toHaveProperty('onlyIfEmpty');
    expect(() => parseEvent({ ...event, onlyIfEmpty: 'true' })).toThrow('onlyIfEmpty must be a boolean');
  });

  it('accepts the members of a training output archive instead of two objects', () => {
    const archive = {
      bucket: 'b',
      archiveKey: 'models/job/output/output.tar.gz',
      recommendationsMember: 'recommendations.jsonl',
      popularityMember: 'popularity.json',
      variant: 'champion',
    };
    expect(parseEvent(archive)).toEqual({ ...archive, version: undefined });
    expect(() => parseEvent({ ...archive, popularityMember: undefined })).toThrow('popularityMember');
  });

  it.each([
    [null, 'object'],
    [{ ...event, bucket: '' }, 'bucket'],
    [{ ...event, variant: 'a:b' }, 'variant'],
    [{ ...event, version: 'x y' }, 'version'],
    [{ ...event, popularityKey: 3 }, 'popularityKey'],
  ])('rejects %j', (value, field) => expect(() => parseEvent(value)).toThrow(field));
});

describe('readLoaderConfig', () => {
  it('has defaults for everything but the cache address', () => {
    const config = readLoaderConfig({ CACHE_HOST: 'cache', CACHE_PORT: '6379' });
    expect(config.cacheCommandTimeoutMs).toBeGreaterThanOrEqual(1000);
    expect(config.settings.graceSeconds).toBe(15 * 60);
    // The serving function's default, so both drop the same items when neither is told.
    expect(config.settings.scoreThreshold).toBe(0);
    expect(
      readLoaderConfig({ CACHE_HOST: 'c', CACHE_PORT: '1', SCORE_THRESHOLD: '0.3' }).settings.scoreThreshold,
    ).toBe(0.3);
  });

  it('names every problem', () => {
    expect(() => readLoaderConfig({ LOAD_BATCH_SIZE: '0' })).toThrow(
      /CACHE_HOST is required.*CACHE_PORT is required.*LOAD_BATCH_SIZE/,
    );
  });
});
