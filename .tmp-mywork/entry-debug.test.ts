import '../test/support/powertools-env';
import { eventsHandler } from '../lambda/platform/events/handler';
import { READINGS } from '../test/platform/lambda/events/fixtures';
it('debug', async () => {
  const h = eventsHandler(READINGS, { EVENTS_DELIVERY_STREAM: 's' });
  const w = process.stdout.write.bind(process.stdout);
  const out: string[] = [];
  (process.stdout as any).write = (c: string) => { out.push(String(c)); return true; };
  const e = process.stderr.write.bind(process.stderr); const err: string[] = [];
  (process.stderr as any).write = (c: string) => { err.push(String(c)); return true; };
  await h({}, { functionName: 'f', awsRequestId: 'x', getRemainingTimeInMillis: () => 1000 } as any);
  process.stdout.write = w; process.stderr.write = e;
  console.log('OUT', out, 'ERR', err);
});
