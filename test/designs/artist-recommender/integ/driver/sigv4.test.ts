import { encodeRfc3986, signRequest } from './sigv4';

describe('signRequest (SigV4)', () => {
  test('matches the IAM example of the AWS documentation (query string, signed content-type)', () => {
    // GIVEN the ListUsers example of https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
    const signed = signRequest({
      method: 'GET',
      url: 'https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8' },
      region: 'us-east-1',
      service: 'iam',
      credentials: {
        accessKeyId: 'AKIDEXAMPLE',
        secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
      },
      now: new Date('2015-08-30T12:36:00Z'),
    });
    // THEN
    expect(signed.headers.authorization).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, ' +
        'SignedHeaders=content-type;host;x-amz-date, ' +
        'Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7',
    );
    expect(signed.headers['x-amz-date']).toBe('20150830T123600Z');
  });

  test('matches the S3 GetObject example of the AWS documentation (extra signed headers, single encoding)', () => {
    // GIVEN https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
    const signed = signRequest({
      method: 'GET',
      url: 'https://examplebucket.s3.amazonaws.com/test.txt',
      headers: {
        Range: 'bytes=0-9',
        'x-amz-content-sha256': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      },
      region: 'us-east-1',
      service: 's3',
      credentials: {
        accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
        secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      },
      now: new Date('2013-05-24T00:00:00Z'),
    });
    expect(signed.headers.authorization).toMatch(
      /SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41$/,
    );
  });

  test('an execute-api POST with a body, a session token, an encoded path and an unsorted query', () => {
    // GIVEN a request whose signature botocore 1.43.11 (SigV4Auth) computes as below
    const signed = signRequest({
      method: 'POST',
      url: 'https://abc123.execute-api.us-east-1.amazonaws.com/live/v1/users/a%20b%2Fc/recommendations?limit=5&b=x%20y&a=2',
      headers: { 'content-type': 'application/json' },
      body: '{"events":[1]}',
      region: 'us-east-1',
      service: 'execute-api',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret', sessionToken: 'tok+en/=' },
      now: new Date('2024-01-02T03:04:05Z'),
    });
    // THEN each path segment is encoded twice, the query is sorted, and the token is signed and sent
    expect(signed.canonicalRequest.split('\n').slice(0, 3)).toEqual([
      'POST',
      '/live/v1/users/a%2520b%252Fc/recommendations',
      'a=2&b=x%20y&limit=5',
    ]);
    expect(signed.headers['x-amz-security-token']).toBe('tok+en/=');
    expect(signed.headers.authorization).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240102/us-east-1/execute-api/aws4_request, ' +
        'SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, ' +
        'Signature=ed9c2fa97a349a09acbea419f8a3d528d3f7c86ccf9f09d0e2eae65b56d53e94',
    );
  });

  test('a different body gives a different signature', () => {
    const sign = (body: string) =>
      signRequest({
        method: 'POST',
        url: 'https://abc.execute-api.us-east-1.amazonaws.com/live/v1/events',
        body,
        region: 'us-east-1',
        service: 'execute-api',
        credentials: { accessKeyId: 'AKID', secretAccessKey: 'secret' },
        now: new Date('2024-01-02T03:04:05Z'),
      }).headers.authorization;
    expect(sign('{"events":[1]}')).not.toBe(sign('{"events":[2]}'));
  });

  test('encodeRfc3986 leaves only unreserved characters', () => {
    expect(encodeRfc3986("a-z_A.Z~0 !'()*/é")).toBe('a-z_A.Z~0%20%21%27%28%29%2A%2F%C3%A9');
  });
});
