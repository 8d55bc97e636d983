import { CfnResource, type IAspect, type RemovalPolicy } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { IConstruct } from 'constructs';

export interface FunctionLogGroupsProps {
  readonly retention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * Gives every Lambda function that has no log group of its own one in its stack, with the profile's
 * retention and removal policy. The functions aws-cdk-lib creates for its own custom resources
 * (emptying buckets, restricting the default security group) are plain `CfnResource`s that set no
 * logging config, and Lambda then creates `/aws/lambda/<name>` on first write: a group without
 * expiry that `cdk destroy` leaves behind. `LoggingConfig.LogGroup` points them at ours instead
 * (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-loggroups.html). A test
 * checks that every function of every stack ends up with a log group of its stack.
 */
export class FunctionLogGroups implements IAspect {
  constructor(private readonly props: FunctionLogGroupsProps) {}

  public visit(node: IConstruct): void {
    if (!(node instanceof CfnResource) || node.cfnResourceType !== 'AWS::Lambda::Function') return;
    // Functions built through the L2 construct say where they log; ours all do.
    if (node instanceof lambda.CfnFunction && node.loggingConfig !== undefined) return;
    const scope = node.node.scope!;
    const id = `${node.node.id}Logs`;
    if (scope.node.tryFindChild(id)) return;
    const group = new logs.LogGroup(scope, id, {
      retention: this.props.retention,
      removalPolicy: this.props.removalPolicy,
    });
    node.addPropertyOverride('LoggingConfig.LogGroup', group.logGroupName);
  }
}
