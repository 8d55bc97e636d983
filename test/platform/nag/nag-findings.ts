import { App, Stack } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';

/**
 * The AwsSolutions findings of a small app that no acknowledgement silences, each as
 * `rule @ construct path`, sorted. The app synthesizes first: construct validations run then, and
 * some acknowledgements are made in them.
 */
export function nagFindings(app: App): string[] {
  app.synth({ force: true });
  const report = new AwsSolutionsChecks().validateScope(app);
  return report.violations
    .flatMap((violation) =>
      violation.violatingResources.map((r) => `${violation.ruleName} @ ${r.constructPath}`),
    )
    .sort();
}

/**
 * Builds the same stack twice, once without and once with an acknowledgement, and returns what
 * cdk-nag reports only without it (`silenced`) and only with it (`added`, which should be empty).
 */
export function compareFindings(build: (stack: Stack, acknowledge: boolean) => void): {
  readonly without: string[];
  readonly silenced: string[];
  readonly added: string[];
} {
  const findingsOf = (acknowledge: boolean) => {
    const app = new App();
    build(new Stack(app, 'Small'), acknowledge);
    return nagFindings(app);
  };
  const without = findingsOf(false);
  const withIt = findingsOf(true);
  return {
    without,
    silenced: without.filter((finding) => !withIt.includes(finding)),
    added: withIt.filter((finding) => !without.includes(finding)),
  };
}
