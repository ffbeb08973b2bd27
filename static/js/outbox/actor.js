/* Who is acting on this phone: the person the server's page names while online, or the one who
   switched in without signal (outbox/switch.js). */
import { fill, texts } from '../i18n.js';
import { Outbox } from './store.js';
import { config, el, isOfflineCopy, prepend } from './page.js';

export async function currentActor() {
  let actor = await Outbox.getMeta('actor');
  if (config.user && !isOfflineCopy() && (!actor || actor.id !== config.user.id)) {
    // A page from the server says who is logged in: that is the truth while online.
    if (actor && actor.offline) showSwitchedBack(actor);
    actor = { id: config.user.id, name: config.user.name };
    await Outbox.setMeta('actor', actor);
    return actor;
  }
  return actor || config.user;
}

/* Someone switched in without signal; the server's session still has the person before them. */
function showSwitchedBack(offlineActor) {
  const t = texts('outbox');
  const note = el('p', 'offline-copy');
  note.setAttribute('role', 'alert');
  note.append(fill(t.switchedBack, { offline: offlineActor.name, name: config.user.name }) + ' ');
  const link = el('a', '', t.switchAgain);
  link.href = config.switchUrl;
  note.append(link);
  prepend(note);
}

/* The name at the top of the page follows the person acting. */
export function showActor(actor) {
  const who = document.querySelector('.top .who');
  if (who && actor && who.textContent !== actor.name) who.textContent = actor.name;
}
