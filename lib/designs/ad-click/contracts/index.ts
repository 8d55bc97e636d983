/**
 * The contracts of ad click prediction's serving path, as zod schemas: the API's request and
 * response, the online features, and the model endpoint's request and answer. Bundled into the
 * scoring function, so nothing here imports aws-cdk-lib.
 */
export * from './score-request';
export * from './score-response';
export * from './online-features';
export * from './model-contract';
