/**
 * The command line of every TypeScript script `npm run` starts, so they all behave the same:
 *
 * - one parser, commander, in strict mode: an unknown option, a stray argument, a missing or bad
 *   value is refused, never ignored;
 * - `-h, --help` prints the usage, every option with its default, and the exit codes; exit 0;
 * - bad usage is one line on stderr that names the option and what it expects; exit 2. Every bad
 *   value of a command line is named at once, not one per run;
 * - the work failing is one line on stderr; exit 1. A programming error (a TypeError and the like)
 *   keeps its stack, since that is what its fix needs.
 *
 *   const cli = new Cli({ name: 'data:generate', usage: 'npm run data:generate --', description: '...' })
 *     .option('--users <count>', 'users to generate', integer(1, 1_000_000), 1000);
 *   runMain(cli.name, async () => { const options = cli.parse<Options>(process.argv.slice(2)); ... });
 *
 * A script's long-running steps show their progress through scripts/support/progress.ts (on
 * stderr); `quietFlag()` adds the `--quiet` that turns it off.
 */
import { Command, CommanderError, Option } from 'commander';

// The AWS SDK's nine-line notice that its releases after January 2027 need Node 22 concerns whoever
// upgrades the pinned SDK packages, not this run; it would stand before every message of a script
// that loads the SDK. Set the variable to false to see it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** The exit codes every script uses. A script may add its own above these (and says so in --help). */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** The command line is wrong: exit 2, with this message. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** `--help` was asked for and printed: exit 0, nothing else to do. */
export class HelpShown extends Error {
  override name = 'HelpShown';
  constructor() {
    super('help shown');
  }
}

/** How an option's text becomes its value, and what the option expects, in words, for messages. */
export interface Value<T> {
  /** e.g. `an integer in [1, 100000]`. */
  readonly expects: string;
  /** Throws an Error whose message says why the text is not one, when it is not. */
  parse(text: string): T;
}

const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;

/** An integer in [min, max]. `1e3`, `0x10`, `12abc` and the empty string are refused. */
export function integer(min: number, max: number): Value<number> {
  const expects = `an integer in [${min}, ${max}]`;
  return {
    expects,
    parse(text) {
      const value = Number(text);
      if (!INTEGER.test(text) || value < min || value > max) throw new Error(expects);
      return value;
    },
  };
}

/** A number in [min, max], or in (min, max] when `exclusiveMin`. */
export function decimal(min: number, max: number, { exclusiveMin = false } = {}): Value<number> {
  const expects = `a number in ${exclusiveMin ? '(' : '['}${min}, ${max}]`;
  return {
    expects,
    parse(text) {
      const value = Number(text);
      if (!DECIMAL.test(text) || (exclusiveMin ? value <= min : value < min) || value > max) {
        throw new Error(expects);
      }
      return value;
    },
  };
}

/** One of a fixed list of names. */
export function oneOf<T extends string>(choices: readonly T[]): Value<T> {
  const expects = `one of ${choices.join(', ')}`;
  return {
    expects,
    parse(text) {
      if (!(choices as readonly string[]).includes(text)) throw new Error(expects);
      return text as T;
    },
  };
}

/** A string that matches `pattern`, described by `expects` (e.g. `a profile name such as sandbox`). */
export function matching(pattern: RegExp, expects: string): Value<string> {
  return {
    expects,
    parse(text) {
      if (!pattern.test(text)) throw new Error(expects);
      return text;
    },
  };
}

/** A calendar day, `YYYY-MM-DD`, that exists. */
export function day(): Value<string> {
  const expects = 'a day as YYYY-MM-DD';
  return {
    expects,
    parse(text) {
      const time = Date.parse(`${text}T00:00:00Z`);
      if (!/^\d{4}-\d{2}-\d{2}$/.test(text) || Number.isNaN(time)) throw new Error(expects);
      if (new Date(time).toISOString().slice(0, 10) !== text) throw new Error(`${expects} that exists`);
      return text;
    },
  };
}

/** An ISO-8601 time with a date, e.g. `2026-01-31T12:00:00Z`. */
export function isoTime(): Value<Date> {
  const expects = 'an ISO-8601 time such as 2026-01-31T12:00:00Z';
  return {
    expects,
    parse(text) {
      const time = new Date(text);
      if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(time.getTime())) throw new Error(expects);
      return time;
    },
  };
}

/** Any non-empty text: a path, a host name. */
export function text(expects: string): Value<string> {
  return {
    expects,
    parse(value) {
      if (value === '') throw new Error(expects);
      return value;
    },
  };
}

/** An AWS region name, checked for its shape only. */
export const region = (): Value<string> =>
  matching(/^[a-z]{2}(?:-[a-z]+)+-\d+$/, 'an AWS region name such as us-east-1');

export interface CliSpec {
  /** The name every message starts with, e.g. `data:generate`. */
  readonly name: string;
  /** How a user starts it, as the usage line shows it, e.g. `npm run data:generate --`. */
  readonly usage: string;
  /** What it does, in a sentence or two. */
  readonly description: string;
  /** More help after the options: examples, what it needs, what it writes. */
  readonly notes?: string;
  /** Exit codes of this script beyond 0, 1 and 2, or other words for them. */
  readonly exitCodes?: Readonly<Record<number, string>>;
}

const STANDARD_EXIT_CODES: Readonly<Record<number, string>> = {
  [EXIT.ok]: 'success',
  [EXIT.failed]: 'the work failed',
  [EXIT.usage]: 'bad usage (an unknown option, a missing or bad value)',
};

/**
 * One script's command line. Build it with `option`, `flag` and `argument`, then `parse` it once
 * (a Cli holds the values of its last parse).
 */
export class Cli {
  readonly program: Command;
  private readonly expects = new Map<string, string>();
  /** Flags that are false unless given (set after parsing, so the help does not show `default: false`). */
  private readonly offFlags: string[] = [];
  private problems: string[] = [];

  constructor(readonly spec: CliSpec) {
    const exitCodes = { ...STANDARD_EXIT_CODES, ...spec.exitCodes };
    this.program = new Command(spec.usage)
      .description(spec.description)
      .helpOption('-h, --help', 'show this help and exit')
      .allowUnknownOption(false)
      .allowExcessArguments(false)
      .showSuggestionAfterError(true)
      // Errors are collected and reported by parse() and runMain(), one line each, not by commander.
      .configureOutput({ outputError: () => undefined })
      .exitOverride();
    this.program.addHelpText(
      'after',
      [
        ...(spec.notes ? ['', spec.notes.trimEnd()] : []),
        '',
        'Exit codes:',
        ...Object.entries(exitCodes).map(([code, meaning]) => `  ${code}  ${meaning}`),
      ].join('\n'),
    );
  }

  get name(): string {
    return this.spec.name;
  }

  /**
   * An option that takes a value. `flags` as commander writes them (`--users <count>`); the help
   * shows `defaultValue`, or `defaultText` (what happens without the option) when there is none.
   */
  option<T>(
    flags: string,
    description: string,
    value: Value<T>,
    defaultValue?: T,
    defaultText?: string,
  ): this {
    const option = new Option(flags, description);
    const flag = option.long ?? option.short ?? flags;
    this.expects.set(flag, value.expects);
    option.argParser((raw: string) => {
      try {
        // A flag where a value should be (`--users --days 3`): the value is missing, not bad.
        if (/^--?[a-z]/i.test(raw) && !DECIMAL.test(raw)) {
          this.problems.push(`${flag} needs a value: ${value.expects} (got the option ${raw})`);
          return raw;
        }
        return value.parse(raw);
      } catch (error) {
        this.problems.push(`${flag} must be ${(error as Error).message}, got ${JSON.stringify(raw)}`);
        return raw;
      }
    });
    if (defaultValue !== undefined) option.default(defaultValue, defaultText);
    else if (defaultText !== undefined) option.description = `${description} (default: ${defaultText})`;
    this.program.addOption(option);
    return this;
  }

  /** `--region`, for the scripts that call AWS: the SDK's own lookup applies without it. */
  regionOption(purpose = 'AWS region to call'): this {
    return this.option(
      '--region <name>',
      purpose,
      region(),
      undefined,
      'AWS_REGION, else the region of AWS_PROFILE',
    );
  }

  /** An option without a value: `--keep` (false unless given), or `--no-wait` (true unless given). */
  flag(flags: string, description: string): this {
    const option = new Option(flags, description);
    if (!option.negate) this.offFlags.push(option.attributeName());
    this.program.addOption(option);
    return this;
  }

  /**
   * `-q, --quiet` (`quiet` in the options): no progress on stderr (scripts/support/progress.ts).
   * Results and errors still print.
   */
  quietFlag(): this {
    return this.flag('-q, --quiet', 'show no progress on stderr (results and errors still print)');
  }

  /** A required positional argument that is one of `choices`. */
  argument(name: string, description: string, choices: readonly string[]): this {
    this.program.argument(`<${name}>`, `${description} (one of ${choices.join(', ')})`, (raw: string) => {
      if (!choices.includes(raw))
        this.problems.push(`${name} must be one of ${choices.join(', ')}, got ${JSON.stringify(raw)}`);
      return raw;
    });
    return this;
  }

  /** A required positional argument whose text `value` parses, e.g. a new design's id. */
  positional<T>(name: string, description: string, value: Value<T>): this {
    this.program.argument(`<${name}>`, `${description} (${value.expects})`, (raw: string) => {
      try {
        return value.parse(raw);
      } catch (error) {
        this.problems.push(`${name} must be ${(error as Error).message}, got ${JSON.stringify(raw)}`);
        return raw;
      }
    });
    return this;
  }

  /**
   * Parses `argv` (the arguments after the script). Returns the options (and named arguments) with
   * their defaults. Throws HelpShown after printing the help, or one UsageError naming every problem:
   * those of the values, commander's (an unknown option, a stray argument), then those `validate`
   * adds for what only the options together say.
   */
  parse<T>(argv: readonly string[], validate?: (options: T, problem: (message: string) => void) => void): T {
    this.problems = [];
    let stopped: string | undefined;
    try {
      this.program.parse([...argv], { from: 'user' });
    } catch (error) {
      if (!(error instanceof CommanderError)) throw error;
      if (error.exitCode === 0) throw new HelpShown();
      stopped = this.describe(error);
    }
    const names = this.program.registeredArguments.map((argument) => argument.name());
    const options = {
      ...Object.fromEntries(this.offFlags.map((name) => [name, false])),
      ...this.program.opts(),
      ...Object.fromEntries(names.map((name, i) => [name, this.program.processedArgs[i]])),
    } as T;
    if (stopped !== undefined) this.problems.push(stopped);
    else validate?.(options, (message) => this.problems.push(message));
    if (this.problems.length > 0) throw new UsageError(this.problems.join('; '));
    return options;
  }

  /** commander's message for a parse it stopped, as one line in the words of the other messages. */
  private describe(error: CommanderError): string {
    const message = error.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ');
    switch (error.code) {
      case 'commander.unknownOption':
        return message.replace('(Did you mean', '(did you mean');
      case 'commander.optionMissingArgument': {
        const flag = /option '(?:-\w, )?(-[^ ,']+)/.exec(message)?.[1] ?? 'an option';
        return `${flag} needs a value: ${this.expects.get(flag) ?? 'see --help'}`;
      }
      case 'commander.excessArguments': {
        const stray = this.program.args.slice(this.program.registeredArguments.length);
        // `npm run x --users 5` hands `5` to the script and keeps `--users` for itself.
        const script = npmScript();
        const hint = script
          ? ` (with npm run, options go after --: npm run ${script} -- --option value)`
          : '';
        return `unexpected argument${stray.length === 1 ? '' : 's'} ${stray.map((a) => `'${a}'`).join(' ')}${hint}`;
      }
      default:
        return message;
    }
  }
}

/** The npm script that started this process, when npm started it (not npx, not another script). */
function npmScript(): string | undefined {
  const { npm_lifecycle_event: event, npm_lifecycle_script: command } = process.env;
  const file = process.argv[1];
  if (!event || event === 'npx' || !command || !file) return undefined;
  return command.split(/\s+/).some((word) => word.endsWith('.ts') && file.endsWith(word)) ? event : undefined;
}

/** What a failure prints, and the exit code it means. */
export function describeFailure(
  name: string,
  error: unknown,
  hint: (error: Error) => string | undefined = () => undefined,
): { code: number; text?: string } {
  if (error instanceof HelpShown) return { code: EXIT.ok };
  if (error instanceof UsageError)
    return { code: EXIT.usage, text: `${name}: ${error.message} (see --help)` };
  if (!(error instanceof Error)) return { code: EXIT.failed, text: `${name}: ${String(error)}` };
  const bug = [TypeError, ReferenceError, RangeError, SyntaxError].some((kind) => error instanceof kind);
  const extra = hint(error);
  const text = `${name}: ${error.message || error.name}${extra ? `: ${extra}` : ''}`;
  return { code: EXIT.failed, text: bug && error.stack ? `${text}\n${error.stack}` : text };
}

/**
 * Runs a script's body as the process. A number it resolves to is the exit code; undefined leaves
 * the process to end when its work (a server, say) is done. A throw is described by
 * `describeFailure`: HelpShown exits 0, UsageError 2, anything else 1.
 */
export function runMain(
  name: string,
  body: () => Promise<number | void> | number | void,
  hint?: (error: Error) => string | undefined,
): void {
  Promise.resolve()
    .then(body)
    .then(
      (code) => {
        if (typeof code === 'number') process.exit(code);
      },
      (error: unknown) => {
        const { code, text } = describeFailure(name, error, hint);
        if (text) console.error(text);
        process.exit(code);
      },
    );
}
