import { EVENTS_REQUEST_MODEL } from '../lib/designs/ad-click/contracts/events-api';
import { AD_EVENT_CONTRACT } from '../lib/designs/ad-click/contracts/events';
import { validateEvent } from '../lambda/platform/events/contract';
console.log(JSON.stringify(EVENTS_REQUEST_MODEL));
const now = Date.parse('2026-03-01T12:00:00Z');
const base = { eventId: 'e1', type: 'impression', userId: 'u1', adId: 'ad1', advertiserId: 'adv1', adCategory: 'travel', placement: 'feed', device: 'mobile', requestId: 'r1', timestamp: '2026-03-01T11:00:00Z' };
for (const v of [base, { ...base, type: 'click' }, { eventId: 'e2', type: 'click', userId: 'u', adId: 'a', requestId: 'r', timestamp: '2026-03-01T11:00:00+01:00', extra: 1 }, { ...base, type: 'view' }, { ...base, type: undefined }, { ...base, type: 3 }, { ...base, device: 'Mobile' }, { ...base, adId: ' x' }, { ...base, timestamp: '2027-01-01T00:00:00Z' }, 'x'])
  console.log(JSON.stringify(validateEvent(AD_EVENT_CONTRACT, v, { now })));
