/**
 * A configuration that cannot be deployed. Validation collects every problem before throwing, so
 * one synth names every bad field instead of the first one.
 */
export class ConfigError extends Error {
  constructor(
    readonly subject: string,
    readonly problems: readonly string[],
  ) {
    super(`Invalid ${subject}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Collects problems under field names, then throws them together. */
export class Problems {
  constructor(
    private readonly found: string[] = [],
    private readonly prefix = '',
  ) {}

  add(field: string, message: string): void {
    this.found.push(`${this.prefix}${field}: ${message}`);
  }

  /** A view that records into the same list with field names under `prefix`. */
  scoped(prefix: string): Problems {
    return new Problems(this.found, this.prefix + prefix);
  }

  /** Records a problem unless `value` is a finite number in [min, max] (and an integer if asked). */
  checkNumber(field: string, value: number, min: number, max: number, integer = false): void {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
      this.add(field, `must be a number in [${min}, ${max}], got ${JSON.stringify(value)}`);
    } else if (integer && !Number.isInteger(value)) {
      this.add(field, `must be an integer, got ${value}`);
    }
  }

  throwIfAny(subject: string): void {
    if (this.found.length > 0) throw new ConfigError(subject, this.found);
  }
}
