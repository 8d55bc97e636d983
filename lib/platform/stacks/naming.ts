import type { StackProps } from 'aws-cdk-lib';
import type { AppConfig } from '../config/app-config';
import { metricsNamespace } from './serving-stack';

/**
 * Stack ids and names carry the design and the profile, so a sandbox and a production deployment of
 * several designs can share an account: `FeedRanking-sandbox-Data`, `<...>-data` as the name.
 */
export function stackNaming(config: AppConfig): {
  id: (name: string) => string;
  props: (name: string, description: string) => Pick<StackProps, 'stackName' | 'description'>;
} {
  const prefix = `${metricsNamespace(config.design.id)}-${config.profile.name}`;
  return {
    id: (name) => `${prefix}-${name}`,
    props: (name, description) => ({
      stackName: `${prefix}-${name}`,
      description: `${config.design.summary}: ${description} (${config.profile.name})`,
    }),
  };
}
