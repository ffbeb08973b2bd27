/* The time left on a one-time code (the supervisor's floor-phone enrolment): minutes and seconds,
   then "expired" and the code greyed out. The server refuses an expired code whatever this shows. */
import { fill, texts } from './i18n.js';

const pad = (n) => (n < 10 ? '0' : '') + n;

function countDown(node) {
  const t = texts('countdown');
  const ends = Date.parse(node.getAttribute('data-countdown'));
  const out = node.querySelector('.left');
  if (isNaN(ends) || !out) return;
  const tick = () => {
    const left = Math.round((ends - Date.now()) / 1000);
    if (left <= 0) {
      out.textContent = t.expired;
      const box = node.closest('section');
      if (box) box.classList.add('expired');
      return;
    }
    out.textContent = fill(t.left, { time: Math.floor(left / 60) + ':' + pad(left % 60) });
    setTimeout(tick, 1000);
  };
  tick();
}

document.querySelectorAll('[data-countdown]').forEach(countDown);
