/**
 * Where SageMaker writes the logs of every training job of the account and region, one stream per
 * job and host (`<job name>/algo-1-<time>`). No stack owns this group; the cleanup deletes streams.
 */
export const TRAINING_JOB_LOG_GROUP = '/aws/sagemaker/TrainingJobs';
