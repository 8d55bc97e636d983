import type { Template } from 'aws-cdk-lib/assertions';
import { appUnderTest } from './app-under-test';

/**
 * A stateful resource whose logical ID changes is replaced on the next deploy: the VPC with
 * everything in it, the cache with its contents, the log groups with their history. Renaming a
 * construct on their path must be a deliberate act that updates this list.
 */
const PINNED: Record<'network' | 'serving', Record<string, string>> = {
  network: {
    NetworkVpc7FB7348F: 'AWS::EC2::VPC',
    NetworkFlowLogs2BEC3212: 'AWS::Logs::LogGroup',
  },
  serving: {
    Cache18F6EE16: 'AWS::ElastiCache::ServerlessCache',
    RecommendationsLogsD9301DF7: 'AWS::Logs::LogGroup',
    ApiAccessLogs50B185DB: 'AWS::Logs::LogGroup',
    ApiCD79AAA0: 'AWS::ApiGateway::RestApi',
  },
};

const STATEFUL_TYPES = [...new Set(Object.values(PINNED).flatMap((ids) => Object.values(ids)))];

function statefulIds(template: Template): Record<string, string> {
  const ids: Record<string, string> = {};
  for (const type of STATEFUL_TYPES) {
    for (const id of Object.keys(template.findResources(type))) ids[id] = type;
  }
  return ids;
}

describe.each(['sandbox', 'production'] as const)('logical IDs of stateful resources (%s)', (profile) => {
  test.each(['network', 'serving'] as const)('%s stack', (stack) => {
    expect(statefulIds(appUnderTest(profile)[stack])).toEqual(PINNED[stack]);
  });
});
