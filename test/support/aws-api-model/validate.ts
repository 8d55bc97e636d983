import { translateJavaPattern } from './java-regex';
import { loadServiceModel, type MemberRef, type ServiceModel, type Shape } from './model';

export interface ApiModelProblem {
  /** Where in the input, e.g. `ProductionVariants[0].ServerlessConfig.MemorySizeInMB`; '' for the input itself. */
  path: string;
  message: string;
}

export interface ValidateOptions {
  /**
   * The input is a Step Functions task's `Parameters`: a key ending in `.$` holds a JSONPath or
   * intrinsic function whose value is only known at run time, so only its name is checked.
   */
  jsonPath?: boolean;
}

const INT32 = { min: -(2 ** 31), max: 2 ** 31 - 1 };
const MAX_LISTED = 40;

/** `operation` in API casing, e.g. 'CreateModel'. Returns every problem found (empty when valid). */
export function validateRequest(
  service: string,
  operation: string,
  input: unknown,
  options: ValidateOptions = {},
): ApiModelProblem[] {
  let model: ServiceModel;
  try {
    model = loadServiceModel(service);
  } catch (e) {
    return [{ path: '', message: (e as Error).message }];
  }
  const op = model.operations[operation];
  if (!op) {
    const near = Object.keys(model.operations).find((o) => o.toLowerCase() === operation.toLowerCase());
    return [
      {
        path: '',
        message:
          `${service} (API ${model.version}) has no operation "${operation}"` +
          (near ? `; did you mean "${near}"? (operation names are PascalCase)` : ''),
      },
    ];
  }
  const checker = new Checker(model, options);
  if (!op.input) {
    // The operation takes no input: the SDK sends nothing, so any member would be dropped.
    if (
      input !== undefined &&
      (!isPlainObject(input) || Object.keys(input).some((k) => input[k] !== undefined))
    ) {
      return [{ path: '', message: `${operation} takes no input, got ${describe(input)}` }];
    }
    return [];
  }
  // The SDK treats a command without input like an empty input.
  checker.value(op.input.shape, { shape: op.input.shape }, input ?? {}, '');
  return checker.problems;
}

/** Throws one Error listing every problem, naming the service, operation and member path. */
export function assertValidRequest(
  service: string,
  operation: string,
  input: unknown,
  options: ValidateOptions = {},
): void {
  const problems = validateRequest(service, operation, input, options);
  if (problems.length > 0) throw new Error(formatProblems(service, operation, problems));
}

/** `service Operation: N problem(s)` followed by one `  path: message` line each. */
export function formatProblems(service: string, operation: string, problems: ApiModelProblem[]): string {
  const lines = problems.map((p) => `  ${p.path || '(input)'}: ${p.message}`);
  return `${service} ${operation} request does not match the API model (${problems.length} problem${
    problems.length === 1 ? '' : 's'
  }):\n${lines.join('\n')}`;
}

/** The output shape's member names of an operation (used by stubs to build realistic responses). */
export function outputMembers(service: string, operation: string): string[] {
  const model = loadServiceModel(service);
  const op = model.operations[operation];
  if (!op) throw new Error(validateRequest(service, operation, {})[0]!.message);
  if (!op.output) return [];
  return Object.keys(model.shapes[op.output.shape]?.members ?? {});
}

class Checker {
  readonly problems: ApiModelProblem[] = [];

  constructor(
    private readonly model: ServiceModel,
    private readonly options: ValidateOptions,
  ) {}

  private problem(path: string, message: string): void {
    this.problems.push({ path, message });
  }

  private shape(name: string): Shape {
    const shape = this.model.shapes[name];
    if (!shape) throw new Error(`${this.model.service} model is corrupt: shape ${name} is not defined`);
    return shape as Shape;
  }

  value(shapeName: string, ref: MemberRef, value: unknown, path: string): void {
    const shape = this.shape(shapeName);
    switch (shape.type) {
      case 'structure':
        return this.structure(shapeName, shape, value, path);
      case 'list':
        return this.list(shapeName, shape, value, path);
      case 'map':
        return this.map(shapeName, shape, value, path);
      case 'string':
        if (ref.jsonvalue && isPlainObject(value)) return; // the SDK serializes a JSON value itself
        if (typeof value !== 'string') return this.typeProblem(path, 'a string', shapeName, value);
        return this.string(shapeName, shape, value, path);
      case 'integer':
      case 'long': {
        const int = shape.type === 'integer';
        const ok =
          typeof value === 'number'
            ? int
              ? Number.isInteger(value) && value >= INT32.min && value <= INT32.max
              : Number.isSafeInteger(value)
            : !int && typeof value === 'bigint';
        if (!ok)
          return this.typeProblem(path, int ? 'a 32-bit integer' : 'a 64-bit integer', shapeName, value);
        return this.range(shapeName, shape, Number(value), path);
      }
      case 'float':
      case 'double':
        if (typeof value !== 'number') return this.typeProblem(path, 'a number', shapeName, value);
        return this.range(shapeName, shape, value, path);
      case 'boolean':
        if (typeof value !== 'boolean') return this.typeProblem(path, 'a boolean', shapeName, value);
        return;
      case 'timestamp':
        if (value instanceof Date) {
          if (Number.isNaN(value.getTime())) this.problem(path, `${shapeName} is an invalid Date`);
          return;
        }
        if (typeof value === 'number' && Number.isFinite(value)) return;
        if (typeof value === 'string' && !Number.isNaN(Date.parse(value))) return;
        return this.typeProblem(path, 'a Date, an ISO 8601 string or epoch seconds', shapeName, value);
      case 'blob':
        return this.blob(shapeName, shape, ref, value, path);
      default:
        return this.problem(
          path,
          `shape ${shapeName} has type "${shape.type}", which this validator does not know`,
        );
    }
  }

  private typeProblem(path: string, expected: string, shapeName: string, value: unknown): void {
    this.problem(path, `expected ${expected} (shape ${shapeName}), got ${describe(value)}`);
  }

  private structure(shapeName: string, shape: Shape, value: unknown, path: string): void {
    if (!isPlainObject(value)) return this.typeProblem(path, 'an object', shapeName, value);
    const members = shape.members ?? {};
    const present = new Set<string>();
    for (const [key, member] of Object.entries(value)) {
      const dynamic = key.endsWith('.$');
      const name = dynamic && this.options.jsonPath ? key.slice(0, -2) : key;
      const memberPath = join(path, name);
      const ref = Object.hasOwn(members, name) ? members[name] : undefined;
      if (!ref) {
        this.unknownMember(shapeName, Object.keys(members), key, name, memberPath);
        continue;
      }
      if (member === undefined) continue; // the SDK drops undefined members
      present.add(name);
      if (dynamic && this.options.jsonPath) {
        if (typeof member !== 'string') {
          this.problem(
            join(path, key),
            `a ".$" key holds a JSONPath or intrinsic function string, got ${describe(member)}`,
          );
        }
        continue;
      }
      if (member === null) {
        this.problem(memberPath, `null is not a value of ${ref.shape}; leave the member out instead`);
        continue;
      }
      this.value(ref.shape, ref, member, memberPath);
    }
    for (const name of shape.required ?? []) {
      // The SDK fills an idempotency token itself when it is left out.
      if (!present.has(name) && !members[name]?.idempotencyToken) {
        this.problem(join(path, name), `required member of ${shapeName} is missing`);
      }
    }
    if (shape.union && present.size !== 1) {
      this.problem(
        path,
        `${shapeName} is a union: exactly one member must be set, got ${present.size}` +
          (present.size ? ` (${[...present].join(', ')})` : ''),
      );
    }
  }

  private unknownMember(shapeName: string, names: string[], key: string, name: string, path: string): void {
    if (key.endsWith('.$') && !this.options.jsonPath) {
      this.problem(
        path,
        `"${key}" is a Step Functions JSONPath key, not a member of ${shapeName} ` +
          '(validate Step Functions task Parameters with { jsonPath: true })',
      );
      return;
    }
    const near = names.find((n) => n.toLowerCase() === name.toLowerCase());
    if (near) {
      this.problem(
        path,
        `unknown member "${name}" of ${shapeName}; did you mean "${near}"? (member names are case-sensitive)`,
      );
      return;
    }
    this.problem(path, `unknown member "${name}" of ${shapeName}; its members are: ${listed(names)}`);
  }

  private list(shapeName: string, shape: Shape, value: unknown, path: string): void {
    if (!Array.isArray(value)) return this.typeProblem(path, 'an array', shapeName, value);
    this.length(shapeName, shape, value.length, 'items', path);
    value.forEach((item, i) => {
      const itemPath = `${path}[${i}]`;
      if (item === null || item === undefined) {
        this.problem(itemPath, `${describe(item)} is not a value of ${shape.member!.shape}`);
      } else {
        this.value(shape.member!.shape, shape.member!, item, itemPath);
      }
    });
  }

  private map(shapeName: string, shape: Shape, value: unknown, path: string): void {
    if (!isPlainObject(value)) return this.typeProblem(path, 'an object (a map)', shapeName, value);
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    this.length(shapeName, shape, entries.length, 'entries', path);
    for (const [rawKey, item] of entries) {
      const dynamic = this.options.jsonPath === true && rawKey.endsWith('.$');
      const key = dynamic ? rawKey.slice(0, -2) : rawKey;
      const entryPath = `${path}[${JSON.stringify(key)}]`;
      this.value(shape.key!.shape, shape.key!, key, `${entryPath} (key)`);
      if (dynamic) {
        if (typeof item !== 'string') {
          this.problem(
            entryPath,
            `a ".$" key holds a JSONPath or intrinsic function string, got ${describe(item)}`,
          );
        }
      } else if (item === null) {
        this.problem(entryPath, `null is not a value of ${shape.value!.shape}`);
      } else {
        this.value(shape.value!.shape, shape.value!, item, entryPath);
      }
    }
  }

  private string(shapeName: string, shape: Shape, value: string, path: string): void {
    const shown = shape.sensitive
      ? `(a sensitive value of ${[...value].length} characters)`
      : JSON.stringify(value);
    if (shape.enum && !shape.enum.includes(value)) {
      const near = shape.enum.find((e) => e.toLowerCase() === value.toLowerCase());
      this.problem(
        path,
        `${shown} is not a value of the enum ${shapeName}` +
          (near ? `; did you mean "${near}"? (enum values are case-sensitive)` : `: ${listed(shape.enum)}`),
      );
    }
    // Smithy counts a string's length in Unicode scalar values, not UTF-16 code units
    // (https://smithy.io/2.0/spec/constraint-traits.html#length-trait).
    this.length(shapeName, shape, [...value].length, 'characters', path);
    if (shape.pattern !== undefined) {
      const translated = translateJavaPattern(shape.pattern);
      if ('error' in translated) {
        this.problem(
          path,
          `the pattern ${shape.pattern} of ${shapeName} cannot be checked in JavaScript (${translated.error}); ` +
            'extend test/support/aws-api-model/java-regex.ts to cover it',
        );
      } else if (!translated.regex.test(value)) {
        this.problem(path, `${shown} does not match the pattern ${shape.pattern} of ${shapeName}`);
      }
    }
  }

  private blob(shapeName: string, shape: Shape, ref: MemberRef, value: unknown, path: string): void {
    let bytes: number | undefined;
    if (typeof value === 'string') bytes = Buffer.byteLength(value, 'utf8');
    else if (value instanceof Uint8Array) bytes = value.byteLength;
    else if ((shape.streaming || ref.streaming) && isStream(value)) bytes = undefined;
    else {
      return this.typeProblem(
        path,
        shape.streaming || ref.streaming
          ? 'a string, Buffer, Uint8Array, Blob or stream'
          : 'a string, Buffer or Uint8Array',
        shapeName,
        value,
      );
    }
    if (bytes !== undefined) this.length(shapeName, shape, bytes, 'bytes', path);
  }

  private length(shapeName: string, shape: Shape, length: number, unit: string, path: string): void {
    if (shape.min !== undefined && length < shape.min) {
      this.problem(path, `${length} ${unit} is below the minimum ${shape.min} of ${shapeName}`);
    }
    if (shape.max !== undefined && length > shape.max) {
      this.problem(path, `${length} ${unit} is above the maximum ${shape.max} of ${shapeName}`);
    }
  }

  private range(shapeName: string, shape: Shape, value: number, path: string): void {
    if (shape.min !== undefined && value < shape.min) {
      this.problem(path, `${value} is below the minimum ${shape.min} of ${shapeName}`);
    }
    if (shape.max !== undefined && value > shape.max) {
      this.problem(path, `${value} is above the maximum ${shape.max} of ${shapeName}`);
    }
  }
}

function join(path: string, name: string): string {
  return path ? `${path}.${name}` : name;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function isStream(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as { pipe?: unknown; getReader?: unknown; arrayBuffer?: unknown; stream?: unknown };
  return typeof v.pipe === 'function' || typeof v.getReader === 'function' || typeof v.stream === 'function';
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Date) return 'a Date';
  if (value instanceof Uint8Array) return 'a byte array';
  if (typeof value === 'object') {
    const name = Object.getPrototypeOf(value)?.constructor?.name;
    return name && name !== 'Object' ? `a ${name}` : 'an object';
  }
  if (typeof value === 'string')
    return `the string ${JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}...` : value)}`;
  return `${typeof value} ${String(value)}`;
}

function listed(names: string[]): string {
  if (names.length <= MAX_LISTED) return names.join(', ');
  return `${names.slice(0, MAX_LISTED).join(', ')} and ${names.length - MAX_LISTED} more`;
}
