import { spawnSync } from 'node:child_process';
import { createReadStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { tarMembers } from '../../../lambda/cache-loader/tar';

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

describe.each(['gnu', 'pax', 'ustar'])('tarMembers over a %s archive', (format) => {
  it('yields every file with its full name and bytes, in small chunks', async () => {
    const seen: Record<string, string> = {};
    for await (const member of tarMembers(createReadStream(archive(format), { highWaterMark: 700 }))) {
      if (member.type === '0') seen[member.name] = await readAll(member.body);
    }
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
    expect(names).toEqual(expect.arrayContaining(Object.keys(files)));
  });
});

it('reports a truncated archive', async () => {
  const whole = await readAll(createReadStream(archive('gnu')) as AsyncIterable<Buffer>);
  const cut = Buffer.from(whole).subarray(0, 2000);
  await expect(
    (async () => {
      for await (const member of tarMembers(Readable.from([cut]))) await readAll(member.body);
    })(),
  ).rejects.toThrow(/truncated/);
});
