/**
 * The A/B statistics against published worked examples. Each block names its source; the expected
 * numbers are the source's, to the digits it prints.
 */
import {
  differenceInterval,
  normalCdf,
  normalQuantile,
  powerPerGroup,
  relativeLiftInterval,
  sampleSizePerGroup,
  twoProportionZTest,
  wilsonInterval,
} from '../../../scripts/ab/statistics';

const counts = (successes: number, trials: number) => ({ successes, trials });

describe('the normal distribution (from @stdlib)', () => {
  it('gives the textbook critical values', () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 6);
    expect(normalQuantile(0.8)).toBeCloseTo(0.841621, 6);
    expect(normalCdf(1.959964)).toBeCloseTo(0.975, 6);
  });
});

describe('wilsonInterval', () => {
  // Newcombe RG (1998a). Two-sided confidence intervals for the single proportion: comparison of
  // seven methods. Statistics in Medicine 17:857-872, Table I, method 3 (score method, Wilson 1927).
  it.each([
    [81, 263, 0.2553, 0.3662],
    [15, 148, 0.0624, 0.1605],
    [0, 20, 0, 0.1611],
    [1, 29, 0.0061, 0.1718],
  ])('%i/%i: [%f, %f] as in Newcombe 1998a Table I', (x, n, lower, upper) => {
    const interval = wilsonInterval(counts(x, n));
    expect(interval.lower).toBeCloseTo(lower, 4);
    expect(interval.upper).toBeCloseTo(upper, 4);
  });

  it('stays in [0, 1] at the extremes, and is [0, 1] without trials', () => {
    expect(wilsonInterval(counts(29, 29)).upper).toBe(1);
    expect(wilsonInterval(counts(0, 29)).lower).toBe(0);
    expect(wilsonInterval(counts(0, 0))).toEqual({ lower: 0, upper: 1 });
  });

  it('narrows with more trials at the same rate, and widens with more confidence', () => {
    const small = wilsonInterval(counts(5, 100));
    const large = wilsonInterval(counts(500, 10_000));
    expect(large.upper - large.lower).toBeLessThan(small.upper - small.lower);
    const wide = wilsonInterval(counts(5, 100), 0.99);
    expect(wide.upper - wide.lower).toBeGreaterThan(small.upper - small.lower);
  });

  it('refuses counts that are not counts', () => {
    expect(() => wilsonInterval(counts(3, 2))).toThrow(/successes must be an integer in \[0, trials\]/);
    expect(() => wilsonInterval(counts(1, -1))).toThrow(/trials must be an integer >= 0/);
  });
});

describe('twoProportionZTest', () => {
  // https://straightdraw.github.io/probstat/S3b.html ("The z-Proportion Test", example "Voting"):
  // for the resolution in Fulton 281 of 473, in Gwinnett 214 of 443; pooled z = 3.3683, which R's
  // prop.test(correct = FALSE) on the same table there (its X-squared is z²).
  it('matches the Fulton/Gwinnett worked example', () => {
    const test = twoProportionZTest(counts(214, 443), counts(281, 473));
    expect(test.z).toBeCloseTo(3.3683, 2);
    expect(test.pValue).toBeCloseTo(0.000754, 5);
  });

  it('is the square root of Pearson chi-square of the 2x2 table, signed by the direction', () => {
    const a = counts(120, 2400);
    const b = counts(150, 2350);
    const table = [
      [a.successes, a.trials - a.successes],
      [b.successes, b.trials - b.successes],
    ];
    const total = a.trials + b.trials;
    const columns = [table[0][0] + table[1][0], table[0][1] + table[1][1]];
    const rows = [a.trials, b.trials];
    let chiSquare = 0;
    for (const i of [0, 1])
      for (const j of [0, 1]) {
        const expected = (rows[i] * columns[j]) / total;
        chiSquare += (table[i][j] - expected) ** 2 / expected;
      }
    const test = twoProportionZTest(a, b);
    expect(test.z ** 2).toBeCloseTo(chiSquare, 10);
    expect(test.z).toBeGreaterThan(0);
    expect(twoProportionZTest(b, a).z).toBeCloseTo(-test.z, 12);
  });

  it('says nothing differs when neither group has a click, and needs trials in both', () => {
    expect(twoProportionZTest(counts(0, 100), counts(0, 50))).toEqual({ z: 0, pValue: 1 });
    expect(() => twoProportionZTest(counts(0, 0), counts(1, 10))).toThrow(/at least one trial/);
  });

  it('keeps its precision far in the tail', () => {
    const test = twoProportionZTest(counts(5_000, 100_000), counts(6_500, 100_000));
    expect(test.z).toBeGreaterThan(14);
    expect(test.pValue).toBeGreaterThan(0);
    expect(test.pValue).toBeLessThan(1e-40);
  });
});

describe('differenceInterval (Newcombe hybrid score)', () => {
  // Newcombe RG (1998b). Interval estimation for the difference between independent proportions:
  // comparison of eleven methods. Statistics in Medicine 17:873-890, Table II, method 10.
  it.each([
    [56, 70, 48, 80, 0.0524, 0.3339],
    [9, 10, 3, 10, 0.1705, 0.809],
    [5, 56, 0, 29, -0.0381, 0.1926],
    [0, 10, 0, 20, -0.1611, 0.2775],
    [10, 10, 0, 20, 0.6791, 1],
    [10, 10, 0, 10, 0.6075, 1],
  ])('%i/%i - %i/%i: [%f, %f] as in Newcombe 1998b Table II', (x1, n1, x2, n2, lower, upper) => {
    // differenceInterval(a, b) is the interval of p_b - p_a.
    const interval = differenceInterval(counts(x2, n2), counts(x1, n1));
    expect(interval.lower).toBeCloseTo(lower, 4);
    expect(interval.upper).toBeCloseTo(upper, 4);
  });
});

describe('relativeLiftInterval (log risk ratio, Katz et al. 1978)', () => {
  it('is exp(ln RR ± z·SE) − 1 with SE² = 1/x_b − 1/n_b + 1/x_a − 1/n_a', () => {
    // 60/1000 against 50/1000: RR = 1.2, SE² = 1/60 − 1/1000 + 1/50 − 1/1000.
    const se = Math.sqrt(1 / 60 - 1 / 1000 + 1 / 50 - 1 / 1000);
    const interval = relativeLiftInterval(counts(50, 1000), counts(60, 1000))!;
    expect(interval.lower).toBeCloseTo(Math.exp(Math.log(1.2) - 1.959964 * se) - 1, 6);
    expect(interval.upper).toBeCloseTo(Math.exp(Math.log(1.2) + 1.959964 * se) - 1, 6);
    // Zero lies inside: the same data are not significant at 5% (p of the z-test > 0.05).
    expect(interval.lower).toBeLessThan(0);
    expect(twoProportionZTest(counts(50, 1000), counts(60, 1000)).pValue).toBeGreaterThan(0.05);
  });

  it('has no finite estimate when a group has no click', () => {
    expect(relativeLiftInterval(counts(0, 1000), counts(60, 1000))).toBeUndefined();
  });
});

describe('sampleSizePerGroup and powerPerGroup', () => {
  // The examples of R's power.prop.test (https://rdrr.io/r/stats/power.prop.test.html), whose output
  // R prints as: power.prop.test(p1 = .50, p2 = .75, power = .90) gives n = 76.7 per group;
  // power.prop.test(n = 50, p1 = .50, p2 = .75) gives power = 0.740.
  it('matches power.prop.test(p1 = .50, p2 = .75, power = .90): n = 76.7', () => {
    expect(sampleSizePerGroup({ p1: 0.5, p2: 0.75, alpha: 0.05, power: 0.9 })).toBeCloseTo(76.7, 1);
  });

  it('matches power.prop.test(n = 50, p1 = .50, p2 = .75): power = 0.740', () => {
    expect(powerPerGroup(50, 0.5, 0.75, 0.05)).toBeCloseTo(0.74, 3);
  });

  // The plan example of `ab:plan` (5% CTR, +10% relative), by the formula with the quantiles written
  // out: (1.959964·√(2·0.0525·0.9475) + 0.841621·√(0.05·0.95 + 0.055·0.945))² / 0.005².
  it('gives 31,234 per variant for a 5% CTR and a +10% relative lift at alpha 0.05, power 0.8', () => {
    const byHand =
      (1.959964 * Math.sqrt(2 * 0.0525 * 0.9475) + 0.841621 * Math.sqrt(0.05 * 0.95 + 0.055 * 0.945)) ** 2 /
      0.005 ** 2;
    const n = sampleSizePerGroup({ p1: 0.05, p2: 0.055, alpha: 0.05, power: 0.8 });
    expect(n).toBeCloseTo(byHand, 1);
    expect(Math.ceil(n)).toBe(31_234);
  });

  it('is the n at which the power is the one asked for', () => {
    const n = sampleSizePerGroup({ p1: 0.03, p2: 0.033, alpha: 0.01, power: 0.95 });
    expect(powerPerGroup(n, 0.03, 0.033, 0.01)).toBeCloseTo(0.95, 10);
    // Symmetric in the direction of the lift.
    expect(sampleSizePerGroup({ p1: 0.033, p2: 0.03, alpha: 0.01, power: 0.95 })).toBeCloseTo(n, 8);
  });

  it('refuses rates and levels out of range', () => {
    expect(() => sampleSizePerGroup({ p1: 0.05, p2: 0.05, alpha: 0.05, power: 0.8 })).toThrow(/must differ/);
    expect(() => sampleSizePerGroup({ p1: 0, p2: 0.05, alpha: 0.05, power: 0.8 })).toThrow(/in \(0, 1\)/);
    expect(() => sampleSizePerGroup({ p1: 0.05, p2: 0.06, alpha: 1, power: 0.8 })).toThrow(/alpha/);
  });
});
