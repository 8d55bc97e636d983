import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';

/**
 * Renders DOT to SVG with Graphviz compiled to WebAssembly (`@hpcc-js/wasm-graphviz`, which carries
 * its WASM inside: nothing is downloaded). It runs in a child Node process because the package is an
 * ES module only, which jest's CommonJS runtime cannot load.
 */
export function renderSvg(dot: string): string {
  const graphviz = pathToFileURL(require.resolve('@hpcc-js/wasm-graphviz')).href;
  const program = [
    `import { Graphviz } from ${JSON.stringify(graphviz)};`,
    "let dot = '';",
    'for await (const chunk of process.stdin) dot += chunk;',
    "process.stdout.write((await Graphviz.load()).dot(dot, 'svg'));",
  ].join('\n');
  const run = spawnSync(process.execPath, ['--input-type=module', '--eval', program], {
    input: dot,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (run.error) throw run.error;
  if (run.status !== 0) throw new Error(`Graphviz could not render the diagram: ${run.stderr.trim()}`);
  return run.stdout;
}
