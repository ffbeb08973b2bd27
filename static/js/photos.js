// Photo thumbnails (<a data-photo href="full image"><img thumbnail></a>): a tap shows the full-size
// photo in a dialog over the page, closed by its button, a tap on the photo or Escape. Without
// JavaScript or <dialog> the link opens the image itself. Delegated, so swapped panels work too.
import { texts } from './i18n.js';

let dialog;
let image;
let close;

function build() {
  dialog = document.createElement('dialog');
  dialog.className = 'photo-dialog';
  close = document.createElement('button');
  close.type = 'button';
  close.className = 'photo-close';
  close.textContent = '×';
  image = document.createElement('img');
  image.decoding = 'async';
  dialog.append(close, image);
  document.body.appendChild(dialog);
  close.addEventListener('click', () => dialog.close());
  image.addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => image.removeAttribute('src'));
}

document.addEventListener('click', (event) => {
  const link = event.target.closest ? event.target.closest('a[data-photo]') : null;
  if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
  if (typeof HTMLDialogElement !== 'function') return;  // the plain link opens the image
  event.preventDefault();
  if (!dialog) build();
  const thumbnail = link.querySelector('img');
  close.setAttribute('aria-label', texts('widgets').close || 'Close');
  image.alt = thumbnail ? thumbnail.alt : '';
  image.src = link.href;
  dialog.showModal();
  close.focus();
});
