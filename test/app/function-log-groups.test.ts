import { appUnderTest, DESIGNS_AND_PROFILES } from './app-under-test';
import { builtForCollection } from './collect';

const EXPECTED = {
  sandbox: { deletionPolicy: 'Delete', days: 7 },
  production: { deletionPolicy: 'Retain', days: 90 },
} as const;

describe.each(DESIGNS_AND_PROFILES)(
  'every function of %s logs to a log group of its own stack (%s)',
  (design, profile) => {
    const { deletionPolicy, days } = EXPECTED[profile];
    const app = builtForCollection(() => appUnderTest(design, profile));
    if (!app) return;

    test.each(Object.keys(app.byRole))(
      '%s: no function leaves Lambda to create a group that never expires and survives destroy',
      (role) => {
        const template = app.template(role);
        const functions = template.findResources('AWS::Lambda::Function');
        const groups = template.findResources('AWS::Logs::LogGroup');
        for (const [id, fn] of Object.entries(functions)) {
          const ref = fn.Properties?.LoggingConfig?.LogGroup?.Ref as string | undefined;
          expect({ id, ownGroup: ref !== undefined && ref in groups }).toEqual({ id, ownGroup: true });
          expect(groups[ref!]).toMatchObject({
            DeletionPolicy: deletionPolicy,
            Properties: { RetentionInDays: days },
          });
        }
      },
    );

    test('covers the functions aws-cdk-lib adds for its own custom resources', () => {
      const network = app.template('Network').findResources('AWS::Lambda::Function');
      expect(Object.keys(network).some((id) => id.startsWith('CustomVpcRestrictDefaultSG'))).toBe(true);
    });
  },
);
