/**
 * Malformed score requests from a seeded PRNG: one field of a valid request made wrong (and the
 * path of that field), several at once, bodies that are not JSON or not an object, and bodies
 * over the size limit.
 */
import { MAX_BODY_BYTES } from '../../../../lambda/ad-click/score/handler';
import { MAX_CANDIDATES } from '../../../../lib/designs/ad-click/contracts';
import { scoreRequest } from './scoring-fixtures';

export interface FuzzCase {
  /**
   * The field made wrong: the answer names it or a field inside it (an object in place of a string
   * list is refused for its first member). Undefined where several are wrong and any will do.
   */
  readonly field?: string;
  readonly body: string | null;
  readonly isBase64Encoded?: boolean;
  readonly status?: number;
}

type Json = Record<string, unknown>;

/** `field` is `path` or lies inside it: `candidates[1].adId` is within `candidates[1]` and `candidates`. */
export function within(field: string, path: string): boolean {
  return field === path || field.startsWith(`${path}.`) || field.startsWith(`${path}[`);
}

/** Malformed request bodies drawn from `random`, one per call. */
export function badRequests(random: () => number): () => FuzzCase {
  const int = (max: number) => Math.floor(random() * max);
  const pick = <T>(values: readonly T[]): T => values[int(values.length)];
  const randomString = (length: number, alphabet: string) =>
    Array.from({ length }, () => alphabet[int(alphabet.length)]).join('');
  const unicode = () =>
    String.fromCodePoint(pick([0x00e9, 0x4e2d, 0x0000, 0x202e, 0xfeff, 0x1f600, 0xff11, 0x0301]));
  const wrongType = (): unknown =>
    pick<() => unknown>([
      () => null,
      () => int(1000),
      () => -1.5,
      () => true,
      () => [],
      () => ({}),
      () => [randomString(3, 'abc')],
      () => ({ toString: 'x' }),
    ])();
  const badId = (): unknown =>
    pick<() => unknown>([
      () => '',
      () => 'x'.repeat(65 + int(500)),
      () =>
        randomString(1 + int(20), 'abc') +
        pick([' ', '/', ':', '*', '#', '?', '%', '\n', '"', '\\', '@', '+']),
      () => unicode() + randomString(3, 'abc'),
      wrongType,
    ])();
  const badSlug = (): unknown =>
    pick<() => unknown>([
      () => '',
      () => 'Mobile',
      () => 'FEED',
      () => 'travel#x',
      () => 'a'.repeat(33 + int(100)),
      () => 'video preroll',
      () => unicode(),
      wrongType,
    ])();
  const badHour = (): unknown =>
    pick<unknown>([-1, 24, 100, 1.5, '13', null, true, Number.MAX_SAFE_INTEGER + 2, 1e300]);
  const badDay = (): unknown => pick<unknown>(['Mon', 'monday', '', 'x', 0, null, ['mon']]);

  /** One field of a valid request made wrong; returns the path of the field. */
  const mutations: ((r: Json) => string)[] = [
    (r) => ((r.userId = badId()), 'userId'),
    (r) => (delete r.userId, 'userId'),
    (r) => ((r.context = wrongType()), 'context'),
    (r) => (delete r.context, 'context'),
    (r) => (((r.context as Json).device = badSlug()), 'context.device'),
    (r) => (((r.context as Json).placement = badSlug()), 'context.placement'),
    (r) => (delete (r.context as Json).placement, 'context.placement'),
    (r) => (((r.context as Json).hourOfDay = badHour()), 'context.hourOfDay'),
    (r) => (((r.context as Json).dayOfWeek = badDay()), 'context.dayOfWeek'),
    (r) => {
      const key = pick(['ip', 'userId', 'extra', 'hour_of_day', '__proto__x']);
      (r.context as Json)[key] = 1;
      return `context.${key}`;
    },
    (r) => {
      const key = pick(['debug', 'variant', 'limit', randomString(1 + int(8), 'abcxyz')]);
      r[key] = pick<unknown>([1, 'x', null, {}]);
      return key;
    },
    (r) => ((r.candidates = wrongType()), 'candidates'),
    (r) => ((r.candidates = []), 'candidates'),
    (r) => {
      const one = (r.candidates as Json[])[0];
      r.candidates = Array.from({ length: MAX_CANDIDATES + 1 + int(200) }, () => ({ ...one }));
      return 'candidates';
    },
    (r) => {
      const list = r.candidates as Json[];
      const i = int(list.length);
      const field = pick(['adId', 'advertiserId', 'adCategory']);
      list[i][field] = field === 'adCategory' ? badSlug() : badId();
      return `candidates[${i}].${field}`;
    },
    (r) => {
      const list = r.candidates as Json[];
      const i = int(list.length);
      const field = pick(['adId', 'advertiserId', 'adCategory']);
      delete list[i][field];
      return `candidates[${i}].${field}`;
    },
    (r) => {
      const list = r.candidates as Json[];
      const i = int(list.length);
      const key = pick(['bid', 'ad_id', 'price', 'url']);
      list[i][key] = 1;
      return `candidates[${i}].${key}`;
    },
    (r) => {
      const list = r.candidates as unknown[];
      const i = int(list.length);
      list[i] = wrongType();
      return `candidates[${i}]`;
    },
  ];

  const notJson = (): string =>
    pick<() => string>([
      () => JSON.stringify(scoreRequest(1 + int(5))).slice(0, 1 + int(40)),
      () => '{"userId": "u1",}',
      () => "{'userId': 'u1'}",
      () => 'NaN',
      () => '{"userId": NaN}',
      () => randomString(1 + int(50), '{}[]":,abc '),
      () => '\uFEFF{}',
      () => '['.repeat(1 + int(5000)),
    ])();
  const notAnObject = (): string =>
    pick(['[]', 'null', '1', '"request"', 'true', '[{}]', '{}', '{"candidates":[]}']);

  // A body over the limit is refused for its size, whatever else is wrong with it.
  return (): FuzzCase => {
    const fuzz = nextCase();
    const limit = fuzz.isBase64Encoded ? Math.ceil((MAX_BODY_BYTES * 4) / 3) : MAX_BODY_BYTES;
    return (fuzz.body?.length ?? 0) > limit ? { ...fuzz, status: 413, field: 'body' } : fuzz;
  };

  function nextCase(): FuzzCase {
    const kind = int(10);
    if (kind === 0) return { body: notJson(), field: 'body' };
    if (kind === 1) {
      const text = notAnObject();
      // `{}` and its kin are objects missing their fields: the first missing one is named.
      return { body: text, field: text.startsWith('{') ? undefined : 'body' };
    }
    if (kind === 2) {
      return pick<FuzzCase>([
        { body: null, field: 'body' },
        { body: '', field: 'body' },
        { body: ' '.repeat(MAX_BODY_BYTES + 1 + int(1000)), field: 'body', status: 413 },
        { body: Buffer.from(notJson()).toString('base64'), isBase64Encoded: true, field: 'body' },
      ]);
    }
    const request = scoreRequest(1 + int(12), `u${int(1000)}`) as unknown as Json;
    if (kind === 3) {
      // Several fields wrong at once: any of them may be named.
      pick(mutations)(request);
      for (let i = 0; i < 1 + int(3); i++) {
        try {
          pick(mutations)(request);
        } catch {
          // An earlier mutation took away what this one changes: the request is wrong already.
        }
      }
      return { body: JSON.stringify(request) };
    }
    const field = pick(mutations)(request);
    const body = JSON.stringify(request);
    if (random() < 0.1) return { body: Buffer.from(body).toString('base64'), isBase64Encoded: true, field };
    return { body, field };
  }
}
