/**
 * Reads a function's environment at cold start and collects every problem, so a misconfigured
 * deployment fails once with all of them named instead of one at a time.
 */
export class EnvReader {
  private readonly problems: string[] = [];

  constructor(private readonly env: NodeJS.ProcessEnv) {}

  /** A required, non-empty string. */
  text(name: string): string {
    const value = this.env[name];
    if (!value) this.problems.push(`${name} is required`);
    return value ?? '';
  }

  /** A number in [min, max]; required unless a fallback is given for an unset variable. */
  number(name: string, min: number, max: number, fallback?: number): number {
    return this.read(name, min, max, fallback, false);
  }

  /** An integer in [min, max]; required unless a fallback is given for an unset variable. */
  integer(name: string, min: number, max: number, fallback?: number): number {
    return this.read(name, min, max, fallback, true);
  }

  /** Records a problem found by the caller's own checks. */
  problem(message: string): void {
    this.problems.push(message);
  }

  /** Throws one error naming every problem, if there is any. */
  done(subject: string): void {
    if (this.problems.length > 0) throw new Error(`invalid ${subject}: ${this.problems.join('; ')}`);
  }

  private read(
    name: string,
    min: number,
    max: number,
    fallback: number | undefined,
    integer: boolean,
  ): number {
    const raw = this.env[name];
    if (raw === undefined || raw === '') {
      if (fallback === undefined) this.problems.push(`${name} is required`);
      return fallback ?? 0;
    }
    const value = Number(raw);
    const kind = integer ? 'an integer' : 'a number';
    if (!Number.isFinite(value) || (integer && !Number.isInteger(value)) || value < min || value > max) {
      this.problems.push(`${name} must be ${kind} in [${min}, ${max}], got ${JSON.stringify(raw)}`);
    }
    return value;
  }
}
