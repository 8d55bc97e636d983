/**
 * What `cdk synth` prints while it bundles the Lambda functions: aws-cdk-lib's "Bundling asset
 * <path>..." line for each (core `AssetStaging` writes it to stderr unconditionally) and esbuild's
 * file sizes and "Done" (`BundledFunction` sets esbuild's log level from the same context key).
 * Shown only when asked for: `npx cdk synth -c verbose=true`, or `--debug`. The CLI's `--verbose`
 * cannot turn it on: it raises only the CLI's own log level and passes the app no variable and no
 * context (aws-cdk 2.1148: `execProgram` adds CDK_DEBUG for `--debug` alone).
 */
import type { IConstruct } from 'constructs';

/** The context key that asks for the bundling output; `lib/constructs/bundled-function.ts` reads it too. */
export const VERBOSE_SYNTH_CONTEXT = 'verbose';

/** True when the context key is `true` (`-c verbose=true` arrives as the string 'true'). */
export function verboseSynth(scope: IConstruct): boolean {
  const value: unknown = scope.node.tryGetContext(VERBOSE_SYNTH_CONTEXT);
  return value === true || value === 'true';
}

/** The context an App needs so that `cdk synth --debug` (CDK_DEBUG=true) shows the bundling output too. */
export function verboseSynthContext(env: NodeJS.ProcessEnv): Record<string, unknown> | undefined {
  return env.CDK_DEBUG === 'true' ? { [VERBOSE_SYNTH_CONTEXT]: true } : undefined;
}

/** One whole line as aws-cdk-lib writes it: `Bundling asset ${construct path}...\n`, one write per line. */
const BUNDLING_LINE = /^Bundling asset [^\n]*\.\.\.\n$/;

/**
 * Drops exactly aws-cdk-lib's "Bundling asset <path>..." lines from `stream`; every other write
 * (warnings, errors, a partial or longer line that merely starts the same way) goes through.
 */
export function hideBundlingLines(stream: NodeJS.WritableStream): void {
  const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
  stream.write = ((chunk: unknown, ...rest: unknown[]) => {
    if (typeof chunk === 'string' && BUNDLING_LINE.test(chunk)) {
      const callback = rest.find((arg): arg is () => void => typeof arg === 'function');
      if (callback) process.nextTick(callback);
      return true;
    }
    return write(chunk, ...rest);
  }) as typeof stream.write;
}
