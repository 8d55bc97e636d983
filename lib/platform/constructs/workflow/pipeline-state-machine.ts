import { type Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { acknowledgeVendedLogDelivery } from '../../nag/acknowledge-vended-log-delivery';
import { acknowledgeXrayWrites } from '../../nag/acknowledge-xray-writes';

export interface PipelineStateMachineProps {
  readonly definition: sfn.IChainable;
  readonly timeout: Duration;
  /** Log the states' input and output; off where they could carry personal data. */
  readonly logExecutionData: boolean;
  readonly schedule: scheduler.ScheduleExpression;
  readonly scheduleDescription: string;
  /** When false the schedule exists but starts nothing. */
  readonly scheduleEnabled: boolean;
  /** @default - one week */
  readonly logRetention?: logs.RetentionDays;
  /** @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * A pipeline's state machine as every pipeline here runs one: traced, every state logged, bounded
 * by a timeout, and started by an EventBridge Scheduler schedule as well as on demand.
 */
export function createPipelineStateMachine(
  scope: Construct,
  props: PipelineStateMachineProps,
): { stateMachine: sfn.StateMachine; schedule: scheduler.Schedule } {
  const stateMachine = new sfn.StateMachine(scope, 'StateMachine', {
    definitionBody: sfn.DefinitionBody.fromChainable(props.definition),
    timeout: props.timeout,
    tracingEnabled: true,
    logs: {
      destination: new logs.LogGroup(scope, 'Logs', {
        retention: props.logRetention ?? logs.RetentionDays.ONE_WEEK,
        removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      }),
      level: sfn.LogLevel.ALL,
      includeExecutionData: props.logExecutionData,
    },
  });
  acknowledgeXrayWrites(stateMachine.role);
  acknowledgeVendedLogDelivery(stateMachine.role);
  const schedule = new scheduler.Schedule(scope, 'Schedule', {
    description: props.scheduleDescription,
    schedule: props.schedule,
    target: new schedulerTargets.StepFunctionsStartExecution(stateMachine, {}),
    enabled: props.scheduleEnabled,
  });
  return { stateMachine, schedule };
}
