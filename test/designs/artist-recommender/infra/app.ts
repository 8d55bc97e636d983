import type { App, Stack } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import type { AppConfig } from '../../../../lib/platform/config/app-config';
import type { ProfileName } from '../../../../lib/platform/config/profile';
import { AccountStack } from '../../../../lib/platform/stacks/account-stack';
import { DataStack } from '../../../../lib/platform/stacks/data-stack';
import { MlStack } from '../../../../lib/platform/stacks/ml-stack';
import { NetworkStack } from '../../../../lib/platform/stacks/network-stack';
import { PipelineStack } from '../../../../lib/platform/stacks/pipeline-stack';
import { ServingStack } from '../../../../lib/platform/stacks/serving-stack';
import {
  artistRecommender,
  type ArtistRecommenderDesign,
} from '../../../../lib/designs/artist-recommender/design';
import { EtlStack } from '../../../../lib/designs/artist-recommender/etl-stack';
import { appUnderTest } from '../../../app/app-under-test';

export { newApp } from '../../../app/app-under-test';

/** The recommender's stacks by role, typed. */
export interface RecommenderStacks {
  readonly account: AccountStack;
  readonly network: NetworkStack;
  readonly data: DataStack;
  readonly etl: EtlStack;
  readonly ml: MlStack;
  readonly serving: ServingStack;
  readonly pipeline: PipelineStack;
}

/** The recommender's app as `cdk synth -c design=artist-recommender` builds it, one template per stack. */
export interface RecommenderApp {
  readonly app: App;
  readonly config: AppConfig & { readonly design: ArtistRecommenderDesign };
  readonly stacks: RecommenderStacks;
  readonly network: Template;
  readonly data: Template;
  readonly etl: Template;
  readonly ml: Template;
  readonly serving: Template;
  readonly pipeline: Template;
}

const STACK_CLASSES: { readonly [R in keyof RecommenderStacks]: abstract new (...args: never[]) => Stack } = {
  account: AccountStack,
  network: NetworkStack,
  data: DataStack,
  etl: EtlStack,
  ml: MlStack,
  serving: ServingStack,
  pipeline: PipelineStack,
};

/** The role's stack id suffix, e.g. `network` -> `Network`. */
function roleOf(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}

/**
 * The recommender's app for a profile, synthesized once per test file. Throws when its composition
 * lacks a stack of the shape these tests read, rather than letting them read another one.
 */
export function recommenderApp(profile: ProfileName = 'sandbox'): RecommenderApp {
  const built = appUnderTest(artistRecommender.id, profile);
  if (built.config.design !== artistRecommender) {
    throw new Error(`the app was built for ${built.config.design.id}, not ${artistRecommender.id}`);
  }
  const stacks = Object.fromEntries(
    Object.entries(STACK_CLASSES).map(([name, cls]) => {
      const stack = built.byRole[roleOf(name)];
      if (!(stack instanceof cls)) {
        throw new Error(`${artistRecommender.id} has no ${roleOf(name)} stack of class ${cls.name}`);
      }
      return [name, stack];
    }),
  ) as unknown as RecommenderStacks;
  return {
    app: built.app,
    config: built.config as RecommenderApp['config'],
    stacks,
    get network() {
      return built.template('Network');
    },
    get data() {
      return built.template('Data');
    },
    get etl() {
      return built.template('Etl');
    },
    get ml() {
      return built.template('Ml');
    },
    get serving() {
      return built.template('Serving');
    },
    get pipeline() {
      return built.template('Pipeline');
    },
  };
}
