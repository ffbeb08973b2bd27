// Photo thumbnails (<a data-photo href="full image"><img thumbnail></a>): a tap shows the full-size
// photo in a dialog over the page, closed by its button, a tap on the photo or Escape. Without
// JavaScript or <dialog> the link opens the image itself. Delegated, so swapped panels work too.
(function () {
  "use strict";
  var dialog, image, close;

  function build() {
    dialog = document.createElement("dialog");
    dialog.className = "photo-dialog";
    close = document.createElement("button");
    close.type = "button";
    close.className = "photo-close";
    close.textContent = "×";
    image = document.createElement("img");
    image.decoding = "async";
    dialog.appendChild(close);
    dialog.appendChild(image);
    document.body.appendChild(dialog);
    close.addEventListener("click", function () { dialog.close(); });
    image.addEventListener("click", function () { dialog.close(); });
    dialog.addEventListener("close", function () { image.removeAttribute("src"); });
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a[data-photo]") : null;
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) { return; }
    if (typeof HTMLDialogElement !== "function") { return; }  // the plain link opens the image
    event.preventDefault();
    if (!dialog) { build(); }
    var thumbnail = link.querySelector("img");
    close.setAttribute("aria-label", link.getAttribute("data-close") || "Close");
    image.alt = thumbnail ? thumbnail.alt : "";
    image.src = link.href;
    dialog.showModal();
    close.focus();
  });
})();
