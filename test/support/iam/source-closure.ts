import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';

/** A value an AWS SDK module gives the code: `GetObjectCommand` of `@aws-sdk/client-s3`. */
export interface SdkImport {
  readonly module: string;
  readonly name: string;
  /** The file that imports it, relative to the repository root. */
  readonly file: string;
}

const LAMBDA_ROOT = path.join(__dirname, '..', '..', '..', 'lambda');

/** Libraries that call AWS with an SDK client of their own, their values mapped in `./actions.ts`. */
const AWS_CALLING_LIBRARIES: readonly string[] = ['@aws-lambda-powertools/parameters/appconfig'];

/**
 * The AWS SDK values a handler's code can reach: the `@aws-sdk/*` value imports (static, and
 * `const { X } = await import('@aws-sdk/...')`) of `lambda/<folder>/handler.ts` and of every file it
 * reaches through relative imports. Type-only imports are left out: they call nothing.
 */
export function sdkImportsOfHandler(handlerFolder: string, lambdaRoot: string = LAMBDA_ROOT): SdkImport[] {
  const cacheKey = path.join(lambdaRoot, handlerFolder);
  const cached = cache.get(cacheKey);
  if (cached) return cached;
  const imports = readClosure(handlerFolder, lambdaRoot);
  cache.set(cacheKey, imports);
  return imports;
}

const cache = new Map<string, SdkImport[]>();

function readClosure(handlerFolder: string, lambdaRoot: string): SdkImport[] {
  const entry = path.join(lambdaRoot, handlerFolder, 'handler.ts');
  if (!fs.existsSync(entry)) throw new Error(`no handler at ${entry}`);
  const seen = new Set<string>();
  const imports: SdkImport[] = [];
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
    const relative = path.relative(path.join(lambdaRoot, '..'), file);
    for (const found of moduleUses(source)) {
      if (found.specifier.startsWith('.')) {
        const target = resolveRelative(path.dirname(file), found.specifier);
        if (target) queue.push(target);
      } else if (found.specifier.startsWith('@aws-sdk/') || AWS_CALLING_LIBRARIES.includes(found.specifier)) {
        for (const name of found.names) imports.push({ module: found.specifier, name, file: relative });
      }
    }
  }
  return imports;
}

interface ModuleUse {
  readonly specifier: string;
  /** Value names taken from the module; empty for a relative import (its file is followed whole). */
  readonly names: readonly string[];
}

function moduleUses(source: ts.SourceFile): ModuleUse[] {
  const uses: ModuleUse[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) {
      const specifier = (node.moduleSpecifier as ts.StringLiteral).text;
      uses.push({ specifier, names: ts.isImportDeclaration(node) ? valueNames(node) : [] });
    }
    if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [arg] = node.arguments;
      if (arg && ts.isStringLiteral(arg)) uses.push({ specifier: arg.text, names: dynamicNames(node) });
    }
    if (
      ts.isCallExpression(node) &&
      ts.isIdentifier(node.expression) &&
      node.expression.text === 'require' &&
      node.arguments[0] &&
      ts.isStringLiteral(node.arguments[0])
    ) {
      uses.push({ specifier: node.arguments[0].text, names: dynamicNames(node) });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return uses;
}

function valueNames(node: ts.ImportDeclaration): string[] {
  const clause = node.importClause;
  if (!clause || clause.isTypeOnly) return [];
  const names: string[] = [];
  if (clause.name) names.push(clause.name.text);
  const bindings = clause.namedBindings;
  if (bindings && ts.isNamedImports(bindings)) {
    for (const element of bindings.elements) {
      if (!element.isTypeOnly) names.push((element.propertyName ?? element.name).text);
    }
  }
  if (bindings && ts.isNamespaceImport(bindings)) names.push('*');
  return names;
}

/** `const { A, B: b } = await import('m')` gives A and B; `(await import('m')).C` gives C. */
function dynamicNames(call: ts.Node): string[] {
  let node: ts.Node = call;
  while (ts.isAwaitExpression(node.parent) || ts.isParenthesizedExpression(node.parent)) node = node.parent;
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) && ts.isObjectBindingPattern(parent.name)) {
    return parent.name.elements.map((e) => ((e.propertyName ?? e.name) as ts.Identifier).text);
  }
  if (ts.isPropertyAccessExpression(parent)) return [parent.name.text];
  return ['*'];
}

function resolveRelative(dir: string, specifier: string): string | undefined {
  const base = path.resolve(dir, specifier);
  return [`${base}.ts`, path.join(base, 'index.ts'), base].find(
    (f) => fs.existsSync(f) && fs.statSync(f).isFile(),
  );
}
