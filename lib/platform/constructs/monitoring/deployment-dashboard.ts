import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import {
  DefaultDashboards,
  type IDynamicDashboardFactory,
  type IDynamicDashboardSegment,
} from 'cdk-monitoring-constructs';
import { Construct } from 'constructs';

/**
 * The one dashboard of a deployment, for the monitoring facade: the library's default factory names
 * its dashboards (a physical name fixed in the template); this one lets CloudFormation name it, so
 * two deployments of a design never collide, and it makes no summary or alarm dashboards, which
 * would bill $3 a month each beyond an account's first three.
 */
export class DeploymentDashboard extends Construct implements IDynamicDashboardFactory {
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.dashboard = new cloudwatch.Dashboard(this, 'Resource', {
      start: '-PT8H',
      periodOverride: cloudwatch.PeriodOverride.INHERIT,
    });
    // CloudFormation takes Tags on a dashboard
    // (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-cloudwatch-dashboard.html),
    // but cfn-lint 1.51's schema does not yet (E3002), and a dashboard bills nothing to allocate.
    (this.dashboard.node.defaultChild as cloudwatch.CfnDashboard).addPropertyDeletionOverride('Tags');
  }

  public addDynamicSegment(segment: IDynamicDashboardSegment): void {
    this.dashboard.addWidgets(...segment.widgetsForDashboard(DefaultDashboards.DETAIL));
  }

  public getDashboard(type: string): cloudwatch.Dashboard | undefined {
    return type === DefaultDashboards.DETAIL ? this.dashboard : undefined;
  }
}
