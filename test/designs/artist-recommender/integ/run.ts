/**
 * `npm run integ`: the integration test in a real account, as integ-runner runs a test whose update
 * workflow is off: check that the account holds nothing of the design, deploy the app of
 * `integ.sandbox.ts` (the sandbox stacks and the assertions, which run while the last stack
 * deploys), read every assertion's result from the stack outputs, destroy everything, and check
 * that nothing is left.
 *
 *   npm run integ [-- --no-clean]      # --no-clean keeps the stacks for debugging (then destroy them)
 *
 * It drives the project's own CDK CLI: integ-runner 2.197.10, the newest release, reads cloud
 * assemblies up to schema 53, and aws-cdk-lib 2.276 writes schema 55.
 *
 * Exit code 0 when every assertion passed, the destroy succeeded and nothing is left; 1 otherwise;
 * 2 on bad usage.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkLeftovers } from '../../../../scripts/check-leftovers';
import { awsHint } from '../../../../scripts/support/aws';
import { Cli, runMain } from '../../../../scripts/support/cli';
import { INTEG_REGION } from './sandbox-integ-app';

const ROOT = path.join(__dirname, '..', '..', '..', '..');
const APP =
  'npx ts-node --transpile-only --prefer-ts-exts test/designs/artist-recommender/integ/integ.sandbox.ts';
const HOUR_MS = 3_600_000;

/** Runs a command with the terminal; kills it past its deadline. Resolves to its exit code. */
function run(command: string, args: string[], env: NodeJS.ProcessEnv, deadlineMs: number): Promise<number> {
  console.log(`\n$ ${command} ${args.join(' ')}`);
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: ROOT, env, stdio: 'inherit' });
    const timer = setTimeout(() => {
      console.error(`${command} ${args[1] ?? ''} ran past ${deadlineMs / HOUR_MS} h: stopping it`);
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 30_000).unref();
    }, deadlineMs);
    child.on('error', (error) => {
      console.error(`${command}: ${error.message}`);
      clearTimeout(timer);
      resolve(1);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}

export interface AssertionResult {
  readonly label: string;
  readonly status: 'success' | 'fail' | 'not run';
  readonly message?: string;
}

interface Template {
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
  Outputs?: Record<string, { Value?: { 'Fn::GetAtt'?: [string, string] } }>;
}

/** What an assertion resource does, e.g. `SdkCallLambdainvoke post-events`. */
export function describeAssertion(resource: { Type: string; Properties?: Record<string, unknown> }): string {
  const kind = resource.Type.replace('Custom::DeployAssert@', '');
  const op = /op\\*"\s*:\s*\\*"([a-z-]+)/.exec(JSON.stringify(resource.Properties?.parameters ?? ''))?.[1];
  return op ? `${kind} ${op}` : kind;
}

/**
 * Every assertion of the integ stack's template with its result from `cdk deploy --outputs-file`:
 * integ-tests-alpha publishes each as an `AssertionResults...` output holding `{"status": ...}`.
 */
export function assertionResults(template: Template, outputs: Record<string, string>): AssertionResult[] {
  return Object.entries(template.Outputs ?? {})
    .filter(([key]) => key.startsWith('AssertionResults'))
    .map(([key, output]) => {
      const resource = template.Resources[output.Value?.['Fn::GetAtt']?.[0] ?? ''];
      const label = resource ? describeAssertion(resource) : key;
      const value = outputs[key];
      if (value === undefined) return { label, status: 'not run' as const };
      try {
        const parsed = JSON.parse(value) as { status?: string; message?: string };
        return parsed.status === 'success'
          ? { label, status: 'success' as const }
          : { label, status: 'fail' as const, message: parsed.message ?? value };
      } catch {
        return { label, status: 'fail' as const, message: value };
      }
    });
}

/** The assertion stack's template, and the names `cdk deploy --outputs-file` may file its outputs under. */
function integTemplate(outdir: string): { names: string[]; template: Template } {
  const integ = JSON.parse(fs.readFileSync(path.join(outdir, 'integ.json'), 'utf8')) as {
    testCases: Record<string, { assertionStack: string; assertionStackName: string }>;
  };
  const testCase = Object.values(integ.testCases)[0];
  const template = JSON.parse(
    fs.readFileSync(path.join(outdir, `${testCase.assertionStack}.template.json`), 'utf8'),
  ) as Template;
  return { names: [testCase.assertionStackName, testCase.assertionStack], template };
}

/** The command line of `npm run integ`. */
function integCli(): Cli {
  return new Cli({
    name: 'integ',
    usage: 'npm run integ --',
    description:
      `The integration test in a real account, in ${INTEG_REGION}: checks that the account holds nothing of the ` +
      'design, deploys the sandbox and its assertions, reads every result, destroys everything and checks ' +
      'that nothing is left.',
    notes: [
      `Needs credentials for a dedicated account (AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY),`,
      `npx cdk bootstrap aws://ACCOUNT/${INTEG_REGION}, and no deployment of the design there. Takes 1.5-3 h.`,
      'Without an account: npm run integ:snapshot compares the app with its committed snapshot.',
    ].join('\n'),
    exitCodes: {
      1: 'an assertion failed, the deploy or destroy failed, or something was left (or the account was not clean)',
    },
  }).flag('--no-clean', 'keep the stacks after the run, for debugging (then destroy them yourself)');
}

async function main(argv: string[]): Promise<number> {
  const { clean } = integCli().parse<{ clean: boolean }>(argv);
  // The one region of the test case; every child process and SDK client uses it.
  process.env.AWS_REGION = process.env.AWS_DEFAULT_REGION = process.env.CDK_DEFAULT_REGION = INTEG_REGION;
  const env = { ...process.env, CDK_DISABLE_VERSION_CHECK: '1' };

  console.log(`integration test in ${INTEG_REGION}: is the account free of the design?`);
  const before = await checkLeftovers(['--since-hours', '24']);
  if (before !== 0) {
    console.error(
      before === 1
        ? 'Not deploying: the account already holds stacks or resources of the design (listed above). The run ' +
            'would update and then destroy them, and could not tell its leftovers from these. Destroy them, or ' +
            'use another account or region.'
        : 'Not deploying: the account could not be checked (see above). Are credentials for it set?',
    );
    return 1;
  }

  const started = new Date();
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'integ-out-'));
  const outputsFile = path.join(outdir, 'outputs.json');
  const deployed = await run(
    'npx',
    [
      'cdk',
      'deploy',
      '--all',
      '--app',
      APP,
      '--output',
      outdir,
      '--require-approval',
      'never',
      '--concurrency',
      '4',
      '--outputs-file',
      outputsFile,
    ],
    env,
    4 * HOUR_MS,
  );

  let results: AssertionResult[] = [];
  if (fs.existsSync(path.join(outdir, 'integ.json'))) {
    const { names, template } = integTemplate(outdir);
    const all = fs.existsSync(outputsFile)
      ? (JSON.parse(fs.readFileSync(outputsFile, 'utf8')) as Record<string, Record<string, string>>)
      : {};
    const outputs = names.map((name) => all[name]).find((o) => o !== undefined) ?? {};
    results = assertionResults(template, outputs);
  }

  let destroyed = 0;
  let left = 0;
  if (clean) {
    destroyed = await run('npx', ['cdk', 'destroy', '--all', '--force', '--app', outdir], env, 2 * HOUR_MS);
    console.log('\nIs anything left?');
    left = await checkLeftovers(['--since', started.toISOString()]);
  }

  console.log(`\nAssertions (the run took ${((Date.now() - started.getTime()) / 60_000).toFixed(0)} min):`);
  for (const r of results)
    console.log(`  ${r.status.padEnd(8)} ${r.label}${r.message ? `: ${r.message}` : ''}`);
  if (results.length === 0) console.log('  none ran: the app did not synthesize');
  if (deployed !== 0)
    console.log('deploy failed (the first failed assertion, or a resource, stopped it: see above)');
  if (!clean)
    console.log(
      '--no-clean: the stacks are still deployed; destroy them with npx cdk destroy --all --app ' + outdir,
    );
  if (destroyed !== 0) console.log('destroy failed: see above, and destroy what remains');
  if (left !== 0) console.log('something was left behind (listed above)');
  const passed = results.length > 0 && results.every((r) => r.status === 'success');
  return deployed === 0 && passed && destroyed === 0 && left === 0 ? 0 : 1;
}

if (require.main === module) {
  runMain('integ', () => main(process.argv.slice(2)), awsHint);
}
