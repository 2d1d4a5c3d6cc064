// Usage: node send.mjs <host url> <write key> <run id>
// Sends the calls of one visitor's journey with the real Segment Node client, then flushes and exits.
import { Analytics } from '@segment/analytics-node';

const [host, writeKey, run] = process.argv.slice(2);
const analytics = new Analytics({ writeKey, host, maxEventsInBatch: 3, flushInterval: 200 });
analytics.on('error', (error) => { console.error('segment error', error); process.exitCode = 1; });

const anonymousId = `node-anon-${run}`;
const userId = `node-user-${run}`;
analytics.page({ anonymousId, name: 'Home', properties: { url: 'https://shop.example/?utm_source=google&utm_medium=cpc' } });
analytics.track({ anonymousId, event: 'Product Viewed', properties: { product_id: 'sku-1', price: 19.99 } });
analytics.identify({ anonymousId, userId, traits: { email: `Node-${run}@Example.com`, firstName: 'Node' } });
analytics.alias({ previousId: anonymousId, userId });
analytics.track({ userId, event: 'Order Completed', properties: { order_id: `node-${run}`, revenue: 19.99, currency: 'USD' } });
await analytics.closeAndFlush({ timeout: 10000 });
console.log('sent');
