/**
 * AWS Signature Version 4 for one HTTP request, with node:crypto only: the integration test signs
 * its calls to the IAM-authorised API as any client would
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html).
 */
import { createHash, createHmac } from 'node:crypto';

export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface SignInput {
  readonly method: string;
  /** Path segments already percent-encoded with `encodeRfc3986`, as they are sent. */
  readonly url: string;
  /** Headers to send and sign (besides `host`, `x-amz-date` and `x-amz-security-token`). */
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly region: string;
  /** Signing name of the service, e.g. `execute-api`. */
  readonly service: string;
  readonly credentials: AwsCredentials;
  readonly now?: Date;
}

/** RFC 3986 percent-encoding: everything but `A-Z a-z 0-9 - _ . ~`. */
export function encodeRfc3986(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

const sha256 = (data: string): string => createHash('sha256').update(data, 'utf8').digest('hex');
const hmac = (key: string | Buffer, data: string): Buffer =>
  createHmac('sha256', key).update(data, 'utf8').digest();

/** `20150830T123600Z` */
function amzDate(now: Date): string {
  return now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

function canonicalUri(pathname: string, service: string): string {
  // Every service but S3 signs each segment encoded twice: once as sent, once more for the signature.
  if (service === 's3') return pathname || '/';
  return (pathname || '/').split('/').map(encodeRfc3986).join('/');
}

function canonicalQuery(search: string): string {
  if (search.length <= 1) return '';
  return search
    .slice(1)
    .split('&')
    .filter((pair) => pair.length > 0)
    .map((pair) => {
      const at = pair.indexOf('=');
      const [name, value] = at < 0 ? [pair, ''] : [pair.slice(0, at), pair.slice(at + 1)];
      return [encodeRfc3986(decodeURIComponent(name)), encodeRfc3986(decodeURIComponent(value))];
    })
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

export interface SignedRequest {
  /** Headers to send with the request; `host` is left to the HTTP client, which sends the URL's. */
  readonly headers: Record<string, string>;
  /** What was signed, for tests and for debugging a 403. */
  readonly canonicalRequest: string;
  readonly stringToSign: string;
}

export function signRequest(input: SignInput): SignedRequest {
  const url = new URL(input.url);
  const now = input.now ?? new Date();
  const date = amzDate(now);
  const day = date.slice(0, 8);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(input.headers ?? {})) headers[name.toLowerCase()] = value;
  headers['x-amz-date'] = date;
  if (input.credentials.sessionToken) headers['x-amz-security-token'] = input.credentials.sessionToken;

  const signed: Record<string, string> = { ...headers, host: url.host };
  const names = Object.keys(signed).sort();
  const canonicalHeaders = names
    .map((name) => `${name}:${signed[name].trim().replace(/\s+/g, ' ')}\n`)
    .join('');
  const signedHeaders = names.join(';');
  const canonicalRequest = [
    input.method.toUpperCase(),
    canonicalUri(url.pathname, input.service),
    canonicalQuery(url.search),
    canonicalHeaders,
    signedHeaders,
    sha256(input.body ?? ''),
  ].join('\n');

  const scope = `${day}/${input.region}/${input.service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', date, scope, sha256(canonicalRequest)].join('\n');
  const key = hmac(
    hmac(hmac(hmac(`AWS4${input.credentials.secretAccessKey}`, day), input.region), input.service),
    'aws4_request',
  );
  const signature = createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');
  headers.authorization =
    `AWS4-HMAC-SHA256 Credential=${input.credentials.accessKeyId}/${scope}, ` +
    `SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return { headers, canonicalRequest, stringToSign };
}
