import { CopyObjectCommand, DeleteObjectsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { apiCheckedMockClient } from '../../../../support/aws-api-model/mock';
import {
  copySource,
  MAX_COPY_BYTES,
  publishSnapshot,
} from '../../../../../lambda/artist-recommender/snapshot/publish';

const s3mock = apiCheckedMockClient(S3Client);
const s3 = new S3Client({ region: 'us-east-1' });
const SOURCE = 'snapshots/2026-02-15T00:00:00.000Z/';
const FILES = {
  'train/interactions.csv': { bytes: 10 },
  'train/users.csv': { bytes: 5 },
  'validation/interactions.csv': { bytes: 7 },
};

beforeEach(() => {
  s3mock.reset();
  s3mock.on(CopyObjectCommand).resolves({});
  s3mock.on(DeleteObjectsCommand).resolves({});
});
afterAll(() => s3mock.restore());

/** Every S3 call in order, as `<command> <key(s)>`. */
function calls(): string[] {
  return s3mock.calls().map((call) => {
    const command = call.args[0];
    const input = command.input as { Key?: string; Delete?: { Objects?: { Key?: string }[] } };
    const name = command.constructor.name.replace('Command', '');
    if (input.Delete) return `${name} ${input.Delete.Objects?.map((o) => o.Key).join(',')}`;
    return input.Key ? `${name} ${input.Key}` : name;
  });
}

describe('publishSnapshot', () => {
  it('copies the channel files, deletes stale objects, then copies the manifest last', async () => {
    s3mock
      .on(ListObjectsV2Command)
      .resolvesOnce({
        Contents: [{ Key: 'training/current/train/interactions.csv' }, { Key: 'training/current/old.csv' }],
        IsTruncated: true,
        NextContinuationToken: 't1',
      })
      .resolvesOnce({
        Contents: [
          { Key: 'training/current/validation/part-0.csv' },
          { Key: 'training/current/manifest.json' },
        ],
        IsTruncated: false,
      });
    const result = await publishSnapshot(s3, {
      bucket: 'b',
      sourcePrefix: SOURCE,
      publishPrefix: 'training/current/',
      files: FILES,
    });
    expect(calls()).toEqual([
      'ListObjectsV2',
      'ListObjectsV2',
      'CopyObject training/current/train/interactions.csv',
      'CopyObject training/current/train/users.csv',
      'CopyObject training/current/validation/interactions.csv',
      'DeleteObjects training/current/old.csv,training/current/validation/part-0.csv',
      'CopyObject training/current/manifest.json',
    ]);
    expect(s3mock.commandCalls(ListObjectsV2Command)[1].args[0].input.ContinuationToken).toBe('t1');
    const sources = s3mock.commandCalls(CopyObjectCommand).map((c) => c.args[0].input.CopySource);
    expect(sources[0]).toBe('b/snapshots/2026-02-15T00%3A00%3A00.000Z/train/interactions.csv');
    expect(sources[3]).toBe('b/snapshots/2026-02-15T00%3A00%3A00.000Z/manifest.json');
    expect(result.deleted).toEqual(['training/current/old.csv', 'training/current/validation/part-0.csv']);
    expect(result.copied.at(-1)).toBe('training/current/manifest.json');
  });

  it('deletes nothing when the publish prefix holds only what the snapshot has', async () => {
    s3mock.on(ListObjectsV2Command).resolves({ Contents: [{ Key: 'training/current/manifest.json' }] });
    await publishSnapshot(s3, {
      bucket: 'b',
      sourcePrefix: SOURCE,
      publishPrefix: 'training/current/',
      files: FILES,
    });
    expect(s3mock.commandCalls(DeleteObjectsCommand)).toHaveLength(0);
    expect(s3mock.commandCalls(CopyObjectCommand)).toHaveLength(4);
  });

  it('deletes in batches of 1000', async () => {
    const stale = Array.from({ length: 1500 }, (_, i) => ({ Key: `training/current/old/${i}` }));
    s3mock.on(ListObjectsV2Command).resolves({ Contents: stale });
    const result = await publishSnapshot(s3, {
      bucket: 'b',
      sourcePrefix: SOURCE,
      publishPrefix: 'training/current/',
      files: FILES,
    });
    const batches = s3mock
      .commandCalls(DeleteObjectsCommand)
      .map((c) => c.args[0].input.Delete?.Objects?.length);
    expect(batches).toEqual([1000, 500]);
    expect(result.deleted).toHaveLength(1500);
  });

  it('fails without publishing the manifest when a stale object cannot be deleted', async () => {
    s3mock.on(ListObjectsV2Command).resolves({ Contents: [{ Key: 'training/current/old.csv' }] });
    s3mock
      .on(DeleteObjectsCommand)
      .resolves({ Errors: [{ Key: 'training/current/old.csv', Code: 'AccessDenied', Message: 'no' }] });
    await expect(
      publishSnapshot(s3, {
        bucket: 'b',
        sourcePrefix: SOURCE,
        publishPrefix: 'training/current/',
        files: FILES,
      }),
    ).rejects.toThrow(/old.csv: AccessDenied/);
    expect(calls()).not.toContain('CopyObject training/current/manifest.json');
  });

  it('fails without publishing the manifest when a copy fails', async () => {
    s3mock.on(ListObjectsV2Command).resolves({});
    s3mock
      .on(CopyObjectCommand, { Key: 'training/current/train/users.csv' })
      .rejects(new Error('InternalError'));
    await expect(
      publishSnapshot(s3, {
        bucket: 'b',
        sourcePrefix: SOURCE,
        publishPrefix: 'training/current/',
        files: FILES,
      }),
    ).rejects.toThrow('InternalError');
    expect(calls()).not.toContain('CopyObject training/current/manifest.json');
  });

  it.each([
    ['training/current', /must end with/],
    ['/', /must end with/],
    ['snapshots/', /overlaps/],
  ])('refuses the publish prefix %j', async (publishPrefix, message) => {
    await expect(
      publishSnapshot(s3, { bucket: 'b', sourcePrefix: SOURCE, publishPrefix, files: FILES }),
    ).rejects.toThrow(message);
    expect(s3mock.calls()).toHaveLength(0);
  });

  it('refuses a file too large for CopyObject before copying anything', async () => {
    await expect(
      publishSnapshot(s3, {
        bucket: 'b',
        sourcePrefix: SOURCE,
        publishPrefix: 'training/current/',
        files: { ...FILES, 'train/interactions.csv': { bytes: MAX_COPY_BYTES + 1 } },
      }),
    ).rejects.toThrow(/more than CopyObject copies/);
    expect(s3mock.calls()).toHaveLength(0);
  });

  it('encodes the copy source key but keeps its slashes', () => {
    expect(copySource('bkt', 'a b/c+d/é.csv')).toBe('bkt/a%20b/c%2Bd/%C3%A9.csv');
  });
});
