import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { loadServiceModel, pinnedServices } from '../support/aws-api-model';
import { BOTOCORE_SERVICE_BY_SERVICE_ID, botocoreServiceOf } from '../support/aws-api-model/sdk-services';

const ROOT = join(__dirname, '..', '..');
/** Loads an SDK package by a name found in the sources. */
const load = createRequire(__filename) as (pkg: string) => Record<string, unknown>;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => join(e.parentPath, e.name))
    .filter((f) => !f.includes(`${join('node_modules', '')}`));
}

interface SdkCommandUse {
  file: string;
  pkg: string;
  command: string;
}

/**
 * SDK packages our code loads at run time from the Lambda runtime's SDK without installing them
 * here, by their service id: their commands are checked against the model by name only.
 */
const NOT_INSTALLED: Record<string, string> = { '@aws-sdk/client-rds-data': 'RDS Data' };

function installed(pkg: string): boolean {
  try {
    createRequire(__filename).resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

/**
 * Every `XxxCommand` named in a source file under `root`'s `lambda/` and `scripts/` that references
 * an `@aws-sdk/client-*` package, in any form: a static or type import, `await import(...)`, or
 * `require`/a loader taking the package name (a script may load an optional client at run time),
 * paired with the referenced package that exports it.
 */
function sdkCommandUses(root: string = ROOT): { uses: SdkCommandUse[]; unresolved: string[] } {
  const uses: SdkCommandUse[] = [];
  const unresolved: string[] = [];
  for (const file of [...sources(join(root, 'lambda')), ...sources(join(root, 'scripts'))]) {
    const text = readFileSync(file, 'utf8');
    const packages = [
      ...new Set([...text.matchAll(/['"](@aws-sdk\/client-[a-z0-9-]+)['"]/g)].map((m) => m[1]!)),
    ];
    if (packages.length === 0) continue;
    const here = packages.filter(installed);
    const elsewhere = packages.filter((pkg) => !installed(pkg));
    for (const pkg of elsewhere) {
      if (!NOT_INSTALLED[pkg]) {
        unresolved.push(
          `${relative(root, file)}: ${pkg} is not installed; add its service id to NOT_INSTALLED`,
        );
      }
    }
    const commands = new Set([...text.matchAll(/\b([A-Z][A-Za-z0-9]*Command)\b/g)].map((m) => m[1]!));
    for (const command of commands) {
      const owners = here.filter((pkg) => typeof load(pkg)[command] === 'function');
      // A command no installed package exports belongs to the one package loaded at run time.
      if (owners.length === 0 && elsewhere.length === 1) owners.push(elsewhere[0]!);
      if (owners.length === 0) {
        unresolved.push(`${relative(root, file)}: ${command} is not exported by ${packages.join(' or ')}`);
      }
      for (const pkg of owners) uses.push({ file: relative(root, file), pkg, command });
    }
  }
  return { uses, unresolved };
}

function serviceOf(pkg: string): string {
  const id = NOT_INSTALLED[pkg];
  if (id !== undefined && !installed(pkg)) {
    const service = BOTOCORE_SERVICE_BY_SERVICE_ID[id];
    if (!service) throw new Error(`no pinned API model for the SDK service "${id}" of ${pkg}`);
    return service;
  }
  return botocoreServiceOf(clientOf(pkg));
}

/** The client class of an SDK package (the one `*Client` export with a `send` method). */
function clientOf(pkg: string): object {
  const exports = load(pkg);
  const clients = Object.entries(exports).filter(
    ([name, value]) =>
      /^[A-Z][A-Za-z0-9]*Client$/.test(name) &&
      typeof value === 'function' &&
      typeof (value as { prototype?: { send?: unknown } }).prototype?.send === 'function',
  );
  if (clients.length !== 1) throw new Error(`${pkg} exports ${clients.length} client classes`);
  return clients[0]![1] as object;
}

/** Writes `files` (path -> text) under a fresh folder and returns it. */
function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'sdk-commands-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

describe('the scan for SDK commands', () => {
  test('sees static, type-only, dynamic and run-time loaded imports alike, and names what it cannot place', () => {
    // GIVEN sources that reach their SDK clients in each way the code does
    const root = tree({
      'lambda/a/static.ts': [
        "import { FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';",
        'export const send = (c: FirehoseClient) => c.send(new PutRecordBatchCommand({} as never));',
      ].join('\n'),
      'lambda/a/type-only.ts': [
        "import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';",
        "export const get = (c: S3Client) => c.send(new GetObjectCommand({ Bucket: 'b', Key: 'k' }));",
      ].join('\n'),
      'lambda/b/dynamic.ts': [
        'export async function invoke() {',
        "  const { InvokeEndpointCommand } = await import('@aws-sdk/client-sagemaker-runtime');",
        '  return InvokeEndpointCommand;',
        '}',
      ].join('\n'),
      'scripts/loaded.ts': [
        'export function invoker(load: (name: string) => any = require) {',
        "  const sdk = load('@aws-sdk/client-lambda');",
        '  return new sdk.InvokeCommand({});',
        '}',
      ].join('\n'),
      'scripts/not-installed.ts': [
        "const sdk = require('@aws-sdk/client-rds-data');",
        "export const run = () => new sdk.ExecuteStatementCommand({ sql: 'SELECT 1' });",
      ].join('\n'),
      'scripts/misnamed.ts':
        "import { S3Client } from '@aws-sdk/client-s3';\nexport const x = 'PutObjectsCommand';",
      'lambda/b/no-sdk.ts': "export const text = 'ListStacksCommand';",
    });
    try {
      // WHEN it scans them
      const { uses, unresolved } = sdkCommandUses(root);
      // THEN each command is paired with the package that exports it, and only with that one
      expect([...uses].sort((a, b) => a.file.localeCompare(b.file))).toEqual([
        { file: 'lambda/a/static.ts', pkg: '@aws-sdk/client-firehose', command: 'PutRecordBatchCommand' },
        { file: 'lambda/a/type-only.ts', pkg: '@aws-sdk/client-s3', command: 'GetObjectCommand' },
        {
          file: 'lambda/b/dynamic.ts',
          pkg: '@aws-sdk/client-sagemaker-runtime',
          command: 'InvokeEndpointCommand',
        },
        { file: 'scripts/loaded.ts', pkg: '@aws-sdk/client-lambda', command: 'InvokeCommand' },
        {
          file: 'scripts/not-installed.ts',
          pkg: '@aws-sdk/client-rds-data',
          command: 'ExecuteStatementCommand',
        },
      ]);
      expect(unresolved).toEqual([
        'scripts/misnamed.ts: PutObjectsCommand is not exported by @aws-sdk/client-s3',
      ]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('SDK commands our code sends', () => {
  const { uses, unresolved } = sdkCommandUses();

  test('every command named in lambda/ and scripts/ comes from an SDK package the file uses', () => {
    expect(unresolved).toEqual([]);
    // The platform's own calls are among them: a static import, and a client loaded at run time
    // from the Lambda runtime's SDK.
    expect(uses).toEqual(
      expect.arrayContaining([
        {
          file: 'lambda/platform/invoke-at-deploy/invoke.ts',
          pkg: '@aws-sdk/client-lambda',
          command: 'InvokeCommand',
        },
        {
          file: 'lambda/platform/db-bootstrap/handler.ts',
          pkg: '@aws-sdk/client-rds-data',
          command: 'ExecuteStatementCommand',
        },
      ]),
    );
  });

  test('each resolves to an operation of the pinned model of its service', () => {
    const missing: string[] = [];
    for (const { file, pkg, command } of uses) {
      const service = serviceOf(pkg);
      const operation = command.slice(0, -'Command'.length);
      const model = loadServiceModel(service);
      if (!model.operations[operation]) {
        missing.push(
          `${file}: ${command} (${pkg}) has no operation ${operation} in ${service} ${model.version}`,
        );
      }
    }
    expect(missing).toEqual([]);
    expect(uses.length).toBeGreaterThan(10);
  });
});

describe('SDK service ids and the pinned models', () => {
  test('each mapped service id is the serviceId of the pinned model it names', () => {
    for (const [serviceId, service] of Object.entries(BOTOCORE_SERVICE_BY_SERVICE_ID)) {
      expect({ service, serviceId: loadServiceModel(service).metadata.serviceId }).toEqual({
        service,
        serviceId,
      });
    }
  });

  test('every pinned model is mapped', () => {
    expect(Object.values(BOTOCORE_SERVICE_BY_SERVICE_ID).sort()).toEqual(pinnedServices());
  });

  test('every SDK client our code uses maps to a pinned model', () => {
    const packages = [...new Set(sdkCommandUses().uses.map((u) => u.pkg))];
    for (const pkg of packages) expect(() => serviceOf(pkg)).not.toThrow();
  });
});
