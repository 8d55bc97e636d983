/**
 * The Lambda validator AppConfig runs on a feature flag document before it deploys it. AppConfig
 * checks a feature flag profile against its own JSON Schema (the document's shape and each
 * attribute's constraints) and takes no JSON Schema validator of ours for that profile type; a
 * Lambda validator is the one that can check values against each other (weights summing to more
 * than 0, known variant names): "AWS Lambda functions: Supported for feature flags and free form
 * configurations. JSON Schema: Supported for free form configurations."
 * (https://docs.aws.amazon.com/appconfig/latest/userguide/appconfig-creating-configuration-and-profile-validators.html).
 * AppConfig invokes it with the document base64-encoded in `content` and refuses the version when
 * the function fails (its `X-Amz-Function-Error` header is set), so the handler throws naming
 * every bad field.
 */
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { EnvReader } from '../shared/env-reader';
import { fields, lambdaEntry, type Powertools } from '../shared/lambda-entry';
import { documentProblems } from './flag-document';
import { FLAG_ENV } from './function-contract';

/** The event AppConfig invokes a Lambda validator with. */
export const ValidatorEvent = fields.object({
  applicationId: fields.text(),
  configurationProfileId: fields.text(),
  configurationVersion: fields.text(),
  content: z.string({ error: 'must be a base64 string' }),
  uri: z.string().optional(),
});
export type ValidatorEvent = z.output<typeof ValidatorEvent>;

/** The document would not be served: AppConfig shows this message and does not deploy it. */
export class FlagDocumentRefusedError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`feature flag document refused: ${problems.join('; ')}`);
    this.name = 'FlagDocumentRefusedError';
  }
}

/** Throws a FlagDocumentRefusedError naming every problem of the base64 `content`. */
export function validateFlagDocument(schema: z.ZodType, content: string): void {
  let document: unknown;
  try {
    document = JSON.parse(Buffer.from(content, 'base64').toString('utf8'));
  } catch {
    throw new FlagDocumentRefusedError(['the document is not JSON']);
  }
  const problems = documentProblems(schema, document);
  if (problems.length > 0) throw new FlagDocumentRefusedError(problems);
}

/** Reads the endpoint's variant names, which the design's schema is built for. */
export function readVariantNames(env: NodeJS.ProcessEnv): string[] {
  const read = new EnvReader(env);
  let names: unknown;
  try {
    names = JSON.parse(read.text(FLAG_ENV.variantNames) || 'null');
  } catch {
    names = undefined;
  }
  if (!Array.isArray(names) || names.length === 0 || !names.every((n) => typeof n === 'string')) {
    read.problem(`${FLAG_ENV.variantNames} must be a JSON array of variant names`);
  }
  read.done('flag validator configuration');
  return names as string[];
}

/** A design's validator: the Lambda entry over its schema for the deployed variants. */
export function flagValidatorHandler(
  tools: Powertools,
  schemaFor: (variantNames: readonly string[]) => z.ZodType,
): (event: unknown, context: Context) => Promise<void> {
  let schema: z.ZodType | undefined;
  return lambdaEntry(tools, ValidatorEvent, async (event) => {
    schema ??= schemaFor(readVariantNames(process.env));
    try {
      validateFlagDocument(schema, event.content);
    } catch (error) {
      tools.logger.warn('feature flag document refused', {
        configurationProfileId: event.configurationProfileId,
        configurationVersion: event.configurationVersion,
        error: error as Error,
      });
      throw error;
    }
  });
}
