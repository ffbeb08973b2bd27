/* The outbox store for the page's modules. outbox-store.js stays a classic script, because the
   service worker loads it with importScripts; importing it here runs it once for this page, and it
   assigns self.Outbox (which the browser tests use too). */
import '../outbox-store.js';
import { config } from './page.js';

export const Outbox = self.Outbox;

/* Whether this page keeps actions on the phone: a page from our server, with IndexedDB. */
export const available = Boolean(config && Outbox && self.indexedDB);
