import { spawnSync } from 'node:child_process';
import { createReadStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setImmediate as tick } from 'node:timers/promises';
import { tarMembers } from '../../../../../lambda/artist-recommender/cache-loader/tar';
import { generatedTar } from '../../support/cache-loader-fixtures';

let dir: string;
const longName = `${'deep/'.repeat(30)}popularity.json`;
const files: Record<string, string> = {
  'recommendations.jsonl': 'line\n'.repeat(3000),
  'metrics.json': '{}',
  [longName]: '{"model_version": "m"}',
  'empty.txt': '',
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tar-test-'));
  const content = join(dir, 'content');
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(content, name, '..'), { recursive: true });
    writeFileSync(join(content, name), text);
  }
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function archive(format: string): string {
  const path = join(dir, `${format}.tar`);
  // `.` as the root gives `./`-prefixed names, like many tools do.
  const made = spawnSync('tar', [`--format=${format}`, '-C', join(dir, 'content'), '-cf', path, '.'], {
    encoding: 'utf8',
  });
  if (made.status !== 0) throw new Error(made.stderr);
  return path;
}

async function readAll(body: AsyncIterable<Buffer>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads every member of an archive, bodies included. */
async function readArchive(source: AsyncIterable<Buffer>): Promise<Record<string, string>> {
  const seen: Record<string, string> = {};
  for await (const member of tarMembers(source)) seen[member.name] = await readAll(member.body);
  return seen;
}

describe.each(['gnu', 'pax', 'ustar'])('tarMembers over a %s archive', (format) => {
  it('yields every regular file, not the directories, with its full name and bytes', async () => {
    const seen = await readArchive(createReadStream(archive(format), { highWaterMark: 700 }));
    expect(seen).toEqual(files);
  });

  it('skips the bodies nobody reads', async () => {
    const names: string[] = [];
    for await (const member of tarMembers(createReadStream(archive(format), { highWaterMark: 1000 }))) {
      names.push(member.name);
      if (member.name === 'recommendations.jsonl') {
        // Read a little, leave the rest.
        await member.body[Symbol.asyncIterator]().next();
      }
    }
    expect(names.sort()).toEqual(Object.keys(files).sort());
  });
});

it('reads no further ahead of a slow consumer than one input chunk', async () => {
  const chunkSize = 64 * 1024;
  const size = 64 * 1024 * 1024 + 100;
  let pulled = 0;
  const source = (async function* () {
    for (const chunk of generatedTar('recommendations.jsonl', size, chunkSize)) {
      pulled += chunk.length;
      yield chunk;
    }
  })();
  let consumed = 0;
  let mostAhead = 0;
  for await (const member of tarMembers(source)) {
    expect(member).toMatchObject({ name: 'recommendations.jsonl', size });
    for await (const chunk of member.body) {
      consumed += chunk.length;
      mostAhead = Math.max(mostAhead, pulled - consumed);
      // A consumer slower than the source: every chunk waits a turn of the event loop.
      await tick();
    }
  }
  expect(consumed).toBe(size);
  // The header block plus one chunk.
  expect(mostAhead).toBeLessThanOrEqual(chunkSize + 512);
});

describe('a damaged archive', () => {
  const whole = () => readFileSync(archive('gnu'));
  const read = (bytes: Buffer) => readArchive(Readable.from([bytes]));

  it('fails when a member is cut short', async () => {
    const bytes = whole();
    const offset = bytes.indexOf('line\nline\n');
    await expect(read(bytes.subarray(0, offset + 2000))).rejects.toThrow(/truncated/i);
  });

  it('fails when the archive stops inside a header or without its end blocks', async () => {
    const bytes = whole();
    // Just past the header of the first member: within the next header or at a block boundary.
    await expect(read(bytes.subarray(0, 512 + 300))).rejects.toThrow(/truncated/i);
    await expect(read(bytes.subarray(0, 512))).rejects.toThrow(/truncated/i);
  });

  it('fails on a header whose checksum is wrong', async () => {
    const bytes = Buffer.from(whole());
    bytes[0] ^= 0xff;
    await expect(read(bytes)).rejects.toThrow(/bad tar archive/);
  });

  it('fails on input that is not a tar archive', async () => {
    await expect(read(Buffer.from('{"user_id": "u1"}\n'.repeat(100)))).rejects.toThrow(/tar archive/);
  });
});

it('refuses to read a body after moving on to the next member', async () => {
  const members = tarMembers(createReadStream(archive('gnu')));
  const first = await members.next();
  if (first.done) throw new Error('no member');
  await members.next();
  await expect(readAll(first.value.body)).rejects.toThrow(/after moving on/);
  await members.return(undefined);
});
