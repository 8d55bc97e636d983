import { FAKE_ACCOUNT, FAKE_REGION } from './cfn';
import type { Responder } from './run';

/**
 * The three tasks of a roll-out that goes well, answered as SageMaker does: CreateEndpointConfig
 * returns the new config's ARN, UpdateEndpoint deploys it, and PollEndpoint finds the endpoint
 * InService on that config (a poll before the update is a bug in the state machine).
 */
export function endpointRollOut(
  endpointArn: string,
  at: string,
): Record<'CreateEndpointConfig' | 'UpdateEndpoint' | 'PollEndpoint', Responder> {
  let updatedTo: string | undefined;
  return {
    CreateEndpointConfig: (request) => ({
      EndpointConfigArn: `arn:aws:sagemaker:${FAKE_REGION}:${FAKE_ACCOUNT}:endpoint-config/${request.EndpointConfigName}`,
    }),
    UpdateEndpoint: (request) => {
      updatedTo = request.EndpointConfigName;
      return { EndpointArn: endpointArn };
    },
    PollEndpoint: (request) => {
      if (updatedTo === undefined) throw new Error('polled before UpdateEndpoint');
      return {
        EndpointName: request.EndpointName,
        EndpointArn: endpointArn,
        EndpointConfigName: updatedTo,
        EndpointStatus: 'InService',
        CreationTime: at,
        LastModifiedTime: at,
      };
    },
  };
}
