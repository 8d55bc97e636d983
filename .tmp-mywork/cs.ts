process.env.POWERTOOLS_METRICS_NAMESPACE='X'; process.env.POWERTOOLS_SERVICE_NAME='s';
import { Metrics } from '@aws-lambda-powertools/metrics';
const m = new Metrics();
console.error('cold?', (m as any).coldStart, (m as any).getInitializationType?.());
m.captureColdStartMetric('fn');
m.addMetric('A', 'Count', 1); m.publishStoredMetrics();
