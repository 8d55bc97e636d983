import { Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { AppConfig } from '../config/app-config';
import { ModelEndpoint } from '../constructs/ml/model-endpoint';
import { alarmThresholds } from '../constructs/monitoring/alarm-thresholds';
import { SystemMonitoring } from '../constructs/monitoring/system-monitoring';
import type { DataStack } from './data-stack';
import type { MlStack } from './ml-stack';
import type { PipelineStack } from './pipeline-stack';
import type { ServingStack } from './serving-stack';

export interface MonitoringStackProps extends StackProps {
  readonly config: AppConfig;
  readonly data: DataStack;
  readonly ml: MlStack;
  readonly serving: ServingStack;
  readonly pipeline: PipelineStack;
}

/**
 * Step 6 of the framework, "monitor": one dashboard and the alarms of a deployment, all notifying
 * the data stack's alarm topic, every threshold derived from the design's requirements. It watches
 * what every design has (the API, the events function, the model endpoint, the training pipeline,
 * event ingestion); the design adds what its pattern has through `monitoring`. Stateless: it holds
 * nothing but alarms and a dashboard, so it can be destroyed and redeployed at will.
 */
export class MonitoringStack extends Stack {
  public readonly monitoring: SystemMonitoring;

  constructor(scope: Construct, id: string, props: MonitoringStackProps) {
    super(scope, id, props);
    const { design, profile, capacity } = props.config;
    const built = props.ml.endpoint;
    // Imported by the name CloudFormation reports, so the dashboard's dimensions are one plain
    // cross-stack reference rather than the join over the ML stack's id the endpoint was named with.
    const endpoint = ModelEndpoint.fromEndpointAttributes(this, 'Endpoint', {
      endpointName: built.endpointName,
      endpointArn: built.endpointArn,
      variants: built.variants,
    });
    this.monitoring = new SystemMonitoring(this, 'Monitoring', {
      alarmTopic: props.data.alarms.topic,
      alarmNamePrefix: this.stackName,
      thresholds: alarmThresholds(design.requirements, capacity, endpoint.variants),
    });
    this.monitoring
      .monitorApi(props.serving.api.api)
      .monitorFunction({ name: 'Events', function: props.serving.events.function, servesRequests: true })
      // The endpoint's alarms carry the topic already (MlStack gives it to the endpoint).
      .monitorEndpoint(endpoint, built.alarms, {
        instances: props.ml.hosting.kind === 'instances',
        notifiesTopic: true,
      })
      .monitorStateMachine('TrainingPipeline', props.pipeline.pipeline.stateMachine)
      .monitorIngestion(
        props.data.ingestion.deliveryStream,
        Duration.seconds(profile.data.ingestBufferSeconds),
      );
    // Model Monitor's drift alarm notifies the topic itself (MlStack gives it the action).
    const drift = props.ml.dataQualityMonitor?.driftAlarm;
    if (drift) this.monitoring.addAlarm(drift, { notifiesTopic: true });
  }
}
