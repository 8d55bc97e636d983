/**
 * Import this before the scoring handler: the values the serving stack sets, then the shared
 * Powertools test environment (which only fills what is still unset).
 */
process.env.POWERTOOLS_METRICS_NAMESPACE ??= 'AdClick';
process.env.POWERTOOLS_SERVICE_NAME ??= 'scoring';
export * from '../../../support/powertools-env';
