import { spawn } from 'node:child_process';

export interface RunCommandOptions {
  /** Working directory of the child. */
  readonly cwd: string;
  /** @default - this process's environment */
  readonly env?: NodeJS.ProcessEnv;
  /** Sees the whole output so far (stdout and stderr together) each time more arrives. @default - none */
  readonly onOutput?: (output: string) => void;
}

/** Runs a command to its end: its exit code (1 when a signal ended it) and its output. */
export function runCommand(
  command: string,
  args: readonly string[],
  options: RunCommandOptions,
): Promise<{ code: number; output: string }> {
  const { cwd, env, onOutput = () => undefined } = options;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const take = (chunk: Buffer) => {
      output += chunk.toString();
      onOutput(output);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

/** The last line of a child's output so far (a progress bar's `\r` counts as a line end), for a progress display. */
export function lastLine(output: string): string {
  const text = output.trimEnd();
  return text.slice(Math.max(text.lastIndexOf('\n'), text.lastIndexOf('\r')) + 1);
}
