/**
 * What the scripts that call AWS say when a setting is missing: which one, and how to set it, in
 * place of the SDK's "Region is missing" or "Could not load credentials from any providers".
 */
import { UsageError } from './cli';

/**
 * The SDK reads the region from the client's configuration, then AWS_REGION, then the profile's
 * `region` in the shared config file, and picks none by default:
 * https://docs.aws.amazon.com/sdk-for-javascript/latest/developer-guide/setting-region.html
 */
export const NO_REGION =
  'no AWS region: pass --region or set AWS_REGION (e.g. export AWS_REGION=us-east-1), ' +
  'or give your AWS profile a region in ~/.aws/config';

/**
 * The region a client will call, resolved the way its first call would resolve it, but before
 * that call: a UsageError naming the missing setting when there is none.
 */
export async function requireRegion(client: { config: { region: () => Promise<string> } }): Promise<string> {
  let resolved: string | undefined;
  try {
    resolved = await client.config.region();
  } catch {
    resolved = undefined;
  }
  if (!resolved) throw new UsageError(NO_REGION);
  return resolved;
}

/**
 * How to fix an AWS failure a newcomer meets first (no credentials, expired ones), or undefined.
 * The default credential chain: environment, shared files (AWS_PROFILE, SSO), container and
 * instance roles: https://docs.aws.amazon.com/sdk-for-javascript/latest/developer-guide/setting-credentials-node.html
 */
export function awsHint(error: Error): string | undefined {
  const name = error.name;
  const message = error.message ?? '';
  if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(message)) {
    return (
      'no AWS credentials: set AWS_PROFILE to a profile from `aws configure` or `aws sso login` ' +
      '(e.g. export AWS_PROFILE=sandbox-admin), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY'
    );
  }
  if (/ExpiredToken|token (?:has )?expired|SSO session .*expired/i.test(`${name} ${message}`)) {
    return 'the AWS session has expired: sign in again (e.g. aws sso login) and rerun';
  }
  if (name === 'UnrecognizedClientException' || name === 'InvalidClientTokenId') {
    return 'AWS does not know these credentials: check AWS_PROFILE or AWS_ACCESS_KEY_ID';
  }
  return undefined;
}
