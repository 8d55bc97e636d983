/**
 * Translates the `pattern` of a botocore shape (a java.util.regex.Pattern, as the AWS services that
 * own the models are written in Java) into a JavaScript RegExp with the `u` flag.
 *
 * What differs between the two dialects and how it is handled:
 * - POSIX classes (`\p{Alnum}`, `\p{Print}`...) are ASCII-only in Java and absent from JavaScript:
 *   they become the equivalent ASCII sets.
 * - `\s`/`\S` are ASCII in Java and Unicode-aware in JavaScript: they become the Java ASCII set.
 * - `\A` and `\z` become `^` and `$` (no `m` flag, so they mean start and end of input).
 * - Identity escapes of punctuation (`\_`, `\@`, `\ `) are legal in Java and a syntax error under
 *   the `u` flag: they become the plain character.
 * - A `-` next to a class escape inside a character class (`[\w-_]`) is a literal in Java.
 * - A quantifier on an anchor (`${1,128}`) is accepted by Java and means the anchor itself.
 * Anything the translation cannot reproduce faithfully (class intersections `&&`, nested classes,
 * possessive quantifiers, atomic groups, inline flags, Unicode blocks) is refused with a reason, so
 * the caller reports the pattern as unchecked instead of skipping it silently.
 *
 * The result matches the whole value (`^(?:...)$`): Smithy leaves patterns unanchored
 * (https://smithy.io/2.0/spec/constraint-traits.html#pattern-trait), but the services enforce the
 * pattern on the whole value: SageMaker rejects the training job name `health_and_personal_care...`
 * against `^[a-zA-Z0-9](-*[a-zA-Z0-9])*`, whose unanchored search would match its prefix
 * (https://github.com/aws/sagemaker-python-sdk/issues/384).
 */

export type TranslatedPattern = { regex: RegExp; source: string } | { error: string };

const cache = new Map<string, TranslatedPattern>();

/** Translates and compiles once per distinct pattern. */
export function translateJavaPattern(pattern: string): TranslatedPattern {
  let translated = cache.get(pattern);
  if (!translated) {
    translated = compile(pattern);
    cache.set(pattern, translated);
  }
  return translated;
}

function compile(pattern: string): TranslatedPattern {
  let body: string;
  try {
    body = new Translator(pattern).translate();
  } catch (e) {
    if (e instanceof Untranslatable) return { error: e.message };
    throw e;
  }
  const source = `^(?:${body})$`;
  try {
    return { regex: new RegExp(source, 'u'), source };
  } catch (e) {
    return { error: `the translation ${source} does not compile: ${(e as Error).message}` };
  }
}

class Untranslatable extends Error {}

/** Java's POSIX classes (US-ASCII only unless UNICODE_CHARACTER_CLASS is set, which botocore never does). */
const POSIX: Record<string, string> = {
  Lower: 'a-z',
  Upper: 'A-Z',
  ASCII: '\\u{0}-\\u{7f}',
  Alpha: 'a-zA-Z',
  Digit: '0-9',
  Alnum: 'a-zA-Z0-9',
  Punct: '!-\\/:-@\\[-`{-~',
  Graph: '!-~',
  Print: ' -~',
  Blank: ' \\t',
  Cntrl: '\\u{0}-\\u{1f}\\u{7f}',
  XDigit: '0-9a-fA-F',
  Space: ' \\t\\n\\u{b}\\f\\r',
};
/** Java's `\s`: [ \t\n\x0B\f\r]. */
const JAVA_SPACE = POSIX.Space;
/** Java's `\h`: horizontal whitespace. */
const JAVA_HSPACE = ' \\t\\u{a0}\\u{1680}\\u{180e}\\u{2000}-\\u{200a}\\u{202f}\\u{205f}\\u{3000}';

/** Unicode general categories JavaScript's `\p{...}` knows under the same short names. */
const CATEGORIES = new Set(
  (
    'L Lu Ll Lt Lm Lo LC M Mn Mc Me N Nd Nl No P Pc Pd Ps Pe Pi Pf Po S Sm Sc Sk So Z Zs Zl Zp ' +
    'C Cc Cf Cs Co Cn'
  ).split(' '),
);

/** One element of a character class: a set in JavaScript class syntax, or the negation of one. */
interface ClassPart {
  negated: boolean;
  /** Class-body text, e.g. `a-z\\d`. */
  body: string;
}

class Translator {
  private i = 0;
  private out = '';
  /** Where the last emitted term starts in `out`, and whether it is a zero-width assertion. */
  private lastTerm: { start: number; assertion: boolean } | undefined;

  constructor(private readonly src: string) {}

  translate(): string {
    while (this.i < this.src.length) this.term();
    return this.out;
  }

  private fail(what: string): never {
    throw new Untranslatable(`${what} (at offset ${this.i} of ${this.src})`);
  }

  private emit(text: string, assertion = false): void {
    this.lastTerm = { start: this.out.length, assertion };
    this.out += text;
  }

  private term(): void {
    const c = this.src[this.i];
    if (c === '\\') return this.escape();
    if (c === '[') return this.emit(this.characterClass());
    if (c === '(') return this.groupOpen();
    if (c === ')') {
      this.i++;
      // The group's text starts at its matching `(`: quantifiers then apply to the whole group.
      const start = this.groupStarts.pop();
      if (start === undefined) this.fail('unbalanced )');
      this.out += ')';
      this.lastTerm = { start, assertion: this.lookaroundGroups.has(start) };
      return;
    }
    if (c === '|') {
      this.i++;
      this.out += '|';
      this.lastTerm = undefined;
      return;
    }
    if (c === '*' || c === '+' || c === '?' || (c === '{' && this.quantifierAt(this.i)))
      return this.quantifier();
    this.i++;
    if (c === '^' || c === '$') return this.emit(c, true);
    if (c === '.') return this.emit('.');
    // Literal characters; those with a meaning in JavaScript are escaped.
    this.emit(literal(c));
  }

  private readonly groupStarts: number[] = [];
  private readonly lookaroundGroups = new Set<number>();

  private groupOpen(): void {
    const start = this.out.length;
    const rest = this.src.slice(this.i);
    const m = /^\((\?(?::|=|!|<=|<!|<[A-Za-z][A-Za-z0-9]*>))?/.exec(rest);
    if (rest.startsWith('(?') && !m?.[1]) {
      this.fail(
        rest.startsWith('(?>')
          ? 'atomic groups have no JavaScript equivalent'
          : 'inline flags are not supported',
      );
    }
    const open = m![0];
    this.i += open.length;
    this.groupStarts.push(start);
    if (/^\(\?(=|!|<=|<!)/.test(open)) this.lookaroundGroups.add(start);
    this.out += open;
    this.lastTerm = undefined;
  }

  private quantifierAt(at: number): boolean {
    return /^\{\d+(,\d*)?\}/.test(this.src.slice(at));
  }

  private quantifier(): void {
    const m = /^(\*|\+|\?|\{(\d+)(,(\d*))?\})([?+]?)/.exec(this.src.slice(this.i))!;
    this.i += m[0].length;
    if (m[5] === '+') this.fail('possessive quantifiers have no JavaScript equivalent');
    if (!this.lastTerm) this.fail('quantifier without a term');
    if (this.lastTerm.assertion) {
      // A repeated zero-width assertion is the assertion itself (at least once) or nothing.
      const min = m[1] === '+' ? 1 : m[2] !== undefined ? Number(m[2]) : 0;
      if (min === 0) this.out = this.out.slice(0, this.lastTerm.start);
      this.lastTerm = undefined;
      return;
    }
    this.out += m[0];
    this.lastTerm = undefined;
  }

  private escape(): void {
    const next = this.src[this.i + 1];
    if (next === undefined) this.fail('trailing backslash');
    if (next === 'p' || next === 'P') {
      const part = this.property();
      return this.emit(part.negated ? `[^${part.body}]` : `[${part.body}]`);
    }
    if (next === 'Q') return this.emit(this.quoted());
    this.i += 2;
    switch (next) {
      case 'A':
        return this.emit('^', true);
      case 'z':
        return this.emit('$', true);
      case 'Z':
        return this.emit('(?=(?:\\r\\n|[\\n\\r\\u{85}\\u{2028}\\u{2029}])?$)', true);
      case 'b':
      case 'B':
        return this.emit(`\\${next}`, true);
      case 's':
        return this.emit(`[${JAVA_SPACE}]`);
      case 'S':
        return this.emit(`[^${JAVA_SPACE}]`);
      case 'h':
        return this.emit(`[${JAVA_HSPACE}]`);
      case 'H':
        return this.emit(`[^${JAVA_HSPACE}]`);
      case 'd':
      case 'D':
      case 'w':
      case 'W':
        return this.emit(`\\${next}`);
    }
    if (/[1-9]/.test(next)) return this.emit(`\\${next}`);
    this.i -= 2;
    const cp = this.escapedCodePoint();
    if (cp === undefined) this.fail(`the escape \\${next} is not supported`);
    this.emit(literal(String.fromCodePoint(cp)));
  }

  /** `\Q...\E`: everything between is literal. */
  private quoted(): string {
    const end = this.src.indexOf('\\E', this.i + 2);
    const text = this.src.slice(this.i + 2, end === -1 ? undefined : end);
    this.i = end === -1 ? this.src.length : end + 2;
    return [...text].map(literal).join('');
  }

  /**
   * The code point of a character escape at `this.i` (`\t`, `\x41`, `\x{1F600}`, `\u0041`, a
   * surrogate pair of `\u` escapes, `\0101`, or a punctuation identity escape), advancing past it;
   * undefined when the escape is not a single character.
   */
  private escapedCodePoint(): number | undefined {
    const rest = this.src.slice(this.i);
    const simple: Record<string, number> = { t: 9, n: 10, r: 13, f: 12, a: 7, e: 27 };
    let m: RegExpExecArray | null;
    if (rest[1]! in simple) {
      this.i += 2;
      return simple[rest[1]!];
    }
    if ((m = /^\\x\{([0-9a-fA-F]+)\}/.exec(rest)) || (m = /^\\x([0-9a-fA-F]{2})/.exec(rest))) {
      this.i += m[0].length;
      return parseInt(m[1]!, 16);
    }
    if ((m = /^\\u([0-9a-fA-F]{4})(?:\\u([0-9a-fA-F]{4}))?/.exec(rest))) {
      const hi = parseInt(m[1]!, 16);
      const lo = m[2] === undefined ? undefined : parseInt(m[2], 16);
      // Java, like JavaScript with `u`, reads a lead and trail surrogate escape as one code point.
      if (lo !== undefined && hi >= 0xd800 && hi <= 0xdbff && lo >= 0xdc00 && lo <= 0xdfff) {
        this.i += 12;
        return (hi - 0xd800) * 0x400 + (lo - 0xdc00) + 0x10000;
      }
      this.i += 6;
      return hi;
    }
    if ((m = /^\\0([0-3]?[0-7]{1,2})/.exec(rest))) {
      this.i += m[0].length;
      return parseInt(m[1]!, 8);
    }
    if ((m = /^\\c([@-_a-z])/.exec(rest))) {
      this.i += 3;
      return m[1]!.toUpperCase().charCodeAt(0) ^ 0x40;
    }
    const c = rest.codePointAt(1);
    // Java allows escaping any non-alphabetic character, meaning the character itself.
    if (c !== undefined && !/[A-Za-z0-9]/.test(String.fromCodePoint(c))) {
      this.i += 1 + String.fromCodePoint(c).length;
      return c;
    }
    return undefined;
  }

  /** `\p{...}` or `\P{...}` at `this.i`, as a class part. */
  private property(): ClassPart {
    const m = /^\\([pP])(?:\{([^}]*)\}|([A-Za-z]))/.exec(this.src.slice(this.i));
    if (!m) this.fail('malformed \\p escape');
    this.i += m[0].length;
    const negated = m[1] === 'P';
    const name = m[2] ?? m[3]!;
    if (POSIX[name] !== undefined) return { negated, body: POSIX[name] };
    const category = name.startsWith('Is') && CATEGORIES.has(name.slice(2)) ? name.slice(2) : name;
    if (CATEGORIES.has(category)) return { negated: false, body: `\\${m[1]}{${category}}` };
    if (/^Is[A-Z][A-Za-z_]*$/.test(name)) {
      // Java's \p{IsLatin}, \p{IsAlphabetic}: a script or a binary property.
      const prop = name.slice(2);
      for (const candidate of [`Script=${prop}`, prop]) {
        try {
          new RegExp(`\\p{${candidate}}`, 'u');
          return { negated: false, body: `\\${m[1]}{${candidate}}` };
        } catch {
          // try the next reading
        }
      }
    }
    this.fail(`the class \\${m[1]}{${name}} has no JavaScript equivalent`);
  }

  /** A Java character class at `this.i`, as JavaScript: one class, or an alternation of classes. */
  private characterClass(): string {
    this.i++;
    let negated = false;
    if (this.src[this.i] === '^') {
      negated = true;
      this.i++;
    }
    const plain: string[] = [];
    const negatedParts: string[] = [];
    let first = true;
    for (;;) {
      const c = this.src[this.i];
      if (c === undefined) this.fail('unclosed character class');
      if (c === ']' && !first) {
        this.i++;
        break;
      }
      first = false;
      if (c === '[') this.fail('nested character classes are not supported');
      if (c === '&' && this.src[this.i + 1] === '&')
        this.fail('character class intersections are not supported');
      const atom = this.classAtom();
      if (typeof atom !== 'number') {
        if (atom.negated) negatedParts.push(atom.body);
        else plain.push(atom.body);
        // Java reads a `-` after a class escape as a literal.
        if (this.src[this.i] === '-' && this.src[this.i + 1] !== ']') {
          plain.push('\\-');
          this.i++;
        }
        continue;
      }
      if (this.src[this.i] === '-' && this.src[this.i + 1] !== ']' && this.src[this.i + 1] !== undefined) {
        const save = this.i;
        this.i++;
        if (this.src[this.i] === '[') this.fail('nested character classes are not supported');
        const end = this.classAtom();
        if (typeof end === 'number') {
          if (end < atom) this.fail('illegal character range');
          plain.push(`${classLiteral(atom)}-${classLiteral(end)}`);
          continue;
        }
        // `a-\d`: Java fails on it; do the same rather than guess.
        this.i = save;
        this.fail('a range that ends in a class escape');
      }
      plain.push(classLiteral(atom));
    }
    const body = plain.join('');
    if (negatedParts.length === 0) return negated ? `[^${body}]` : `[${body}]`;
    if (negated) this.fail('a negated class containing a negated escape (\\S, \\P{...}) is not supported');
    // [a\S] = a or not-space: an alternation keeps the meaning without set operations.
    const alternatives = [...(body ? [`[${body}]`] : []), ...negatedParts.map((b) => `[^${b}]`)];
    return `(?:${alternatives.join('|')})`;
  }

  /** One class atom: a code point, or a set (class escape). */
  private classAtom(): number | ClassPart {
    const c = this.src[this.i]!;
    if (c !== '\\') {
      const cp = this.src.codePointAt(this.i)!;
      this.i += String.fromCodePoint(cp).length;
      return cp;
    }
    const next = this.src[this.i + 1];
    if (next === 'p' || next === 'P') return this.property();
    const sets: Record<string, ClassPart> = {
      d: { negated: false, body: '\\d' },
      D: { negated: false, body: '\\D' },
      w: { negated: false, body: '\\w' },
      W: { negated: false, body: '\\W' },
      s: { negated: false, body: JAVA_SPACE },
      S: { negated: true, body: JAVA_SPACE },
      h: { negated: false, body: JAVA_HSPACE },
      H: { negated: true, body: JAVA_HSPACE },
    };
    if (next !== undefined && sets[next]) {
      this.i += 2;
      return sets[next];
    }
    const cp = this.escapedCodePoint();
    if (cp === undefined) this.fail(`the escape \\${next ?? ''} is not supported in a character class`);
    return cp;
  }
}

/** A character outside a class, escaped where JavaScript gives it a meaning. */
function literal(c: string): string {
  if ('^$\\.*+?()[]{}|/'.includes(c)) return `\\${c}`;
  return printable(c) ? c : `\\u{${c.codePointAt(0)!.toString(16)}}`;
}

/** A code point inside a class. */
function classLiteral(cp: number): string {
  const c = String.fromCodePoint(cp);
  if ('\\]-[^/'.includes(c)) return `\\${c}`;
  return printable(c) ? c : `\\u{${cp.toString(16)}}`;
}

/** Printable ASCII is emitted as is, anything else as `\u{...}`, so the translation reads plainly. */
function printable(c: string): boolean {
  return c >= ' ' && c <= '~';
}
