import { translateJavaPattern } from '../support/aws-api-model';

/** The compiled pattern; fails the test when it cannot be translated. */
function compiled(javaPattern: string): RegExp {
  const t = translateJavaPattern(javaPattern);
  if ('error' in t) throw new Error(t.error);
  return t.regex;
}

describe('translateJavaPattern (botocore patterns are java.util.regex)', () => {
  test('matches the whole value, as the services do', () => {
    const re = compiled('^[a-zA-Z0-9](-*[a-zA-Z0-9])*');
    expect(re.test('feed-ranking')).toBe(true);
    expect(re.test('feed_ranking')).toBe(false);
    expect(compiled('a|b').test('ab')).toBe(false);
  });

  test('Unicode categories use the u flag: letters of any script pass, ; and quote do not', () => {
    const re = compiled('^([\\p{L}\\p{Z}\\p{N}_.:\\/=+\\-@]*)$');
    expect(re.test('Zoë 東京 @x=1')).toBe(true);
    expect(re.test('\u{1D49C}')).toBe(true);
    expect(re.test('a;b')).toBe(false);
    expect(re.test("it's")).toBe(false);
  });

  test('a quantified anchor (${1,128} in CustomerMetadataValue) is the anchor itself', () => {
    const re = compiled('([\\p{L}\\p{Z}\\p{N}_.:\\/=+\\-@]*)${1,256}');
    expect(re.test('recall=0.31')).toBe(true);
    expect(re.test('a;b')).toBe(false);
    expect(compiled('a^?b').test('ab')).toBe(true);
  });

  test('POSIX classes are ASCII, as in Java', () => {
    const alnum = compiled('arn:[\\p{Alnum}\\-]+:lambda');
    expect(alnum.test('arn:aws-cn:lambda')).toBe(true);
    expect(alnum.test('arn:awsé:lambda')).toBe(false);
    const print = compiled('\\A\\S[\\p{Print}]*\\z');
    expect(print.test('model.tar.gz v2')).toBe(true);
    expect(print.test(' leading space')).toBe(false);
    expect(print.test('tab\there')).toBe(false);
    expect(compiled('\\p{ASCII}*').test('ascii only é')).toBe(false);
  });

  test('\\s and \\S are the Java ASCII sets, not the Unicode ones', () => {
    expect(compiled('\\S+').test('a\u00a0b')).toBe(true); // NBSP is not Java whitespace
    expect(compiled('\\s').test('\u00a0')).toBe(false);
    expect(compiled('[a\\S]+').test('xyz')).toBe(true);
    expect(compiled('[a\\S]+').test('x z')).toBe(false);
  });

  test('identity escapes that the u flag refuses become plain characters', () => {
    const re = compiled('[a-zA-Z0-9\\ \\_\\.]+');
    expect(re.test('my file_v1.txt')).toBe(true);
    expect(re.test('my-file')).toBe(false);
    expect(compiled('^\\!?[a-zA-Z0-9 :_@\\/\\+\\=\\.\\-\\!]*$').test('!a=b')).toBe(true);
  });

  test('a dash after a class escape is a literal, not a range', () => {
    const re = compiled('[\\w-_]*');
    expect(re.test('a-b_c')).toBe(true);
    // As a range \w-_ would be meaningless; read as `-` to `_` it would wrongly admit `=` and `@`.
    expect(re.test('a=b')).toBe(false);
    expect(re.test('a@b')).toBe(false);
  });

  test('escaped backslashes and dashes inside a class', () => {
    const re = compiled('[a-zA-Z0-9\\\\._\\\\-]+');
    expect(re.test('a\\b-c')).toBe(true);
    expect(re.test('a/b')).toBe(false);
  });

  test('a surrogate pair of \\u escapes is one code point, so astral ranges work', () => {
    const re = compiled('[\\u0020-\\uD7FF\\uE000-\\uFFFD\\uD800\\uDC00-\\uDBFF\\uDFFF\\t]*');
    expect(re.test('emoji \u{1F600} and tab\t')).toBe(true);
    expect(re.test('bell \u0007')).toBe(false);
  });

  test('\\x and \\Q...\\E escapes', () => {
    expect(compiled('[\\x20-\\x7E]+').test('printable ~')).toBe(true);
    expect(compiled('[\\x20-\\x7E]+').test('é')).toBe(false);
    expect(compiled('\\Qa.b\\E').test('a.b')).toBe(true);
    expect(compiled('\\Qa.b\\E').test('axb')).toBe(false);
  });

  test('lookaheads and backreferences pass through', () => {
    const re = compiled('(?!^[0-9]+$)([a-zA-Z0-9-_]+)');
    expect(re.test('abc-1')).toBe(true);
    expect(re.test('123')).toBe(false);
    expect(compiled('(a)\\1').test('aa')).toBe(true);
  });

  test.each([
    ['[a-z&&[^b]]', /intersections/],
    ['[a-z[0-9]]', /nested character classes/],
    ['(?i)abc', /inline flags/],
    ['(?>ab)c', /atomic groups/],
    ['a*+', /possessive/],
    ['\\p{InGreek}', /no JavaScript equivalent/],
    ['[^a\\S]', /negated class containing a negated escape/],
    ['\\k', /escape \\k is not supported/],
    ['[a-', /unclosed character class/],
  ])('%s cannot be translated and says why', (pattern, reason) => {
    const t = translateJavaPattern(pattern);
    expect(t).toEqual({ error: expect.stringMatching(reason) });
  });
});
