import { z } from 'zod';
import { Identifier, IsoTimestamp } from '../lambda/platform/events/fields';
let t = performance.now();
const { InteractionEvent } = require('../lib/designs/artist-recommender/contracts/events');
console.log('load ms', (performance.now() - t).toFixed(1));
t = performance.now();
const C = z.compile(InteractionEvent, { strict: true });
console.log('compile ms', (performance.now() - t).toFixed(1));
t = performance.now(); C.safeParse({}); console.log('first parse ms', (performance.now() - t).toFixed(1));
const U = z.discriminatedUnion('type', [z.object({ type: z.literal('a'), x: Identifier, ts: IsoTimestamp }), z.object({ type: z.literal('b'), ts: IsoTimestamp })]);
try { z.compile(U, { strict: true }); console.log('union compiled'); } catch (e) { console.log('union refused', (e as Error).message); }
console.log(C instanceof z.ZodObject, Object.keys((C as any).shape));
