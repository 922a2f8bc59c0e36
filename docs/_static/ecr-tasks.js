// The language switch leads to the same place in the other language: it
// carries the part of the address after "#" (the section being read) along.
(function () {
  "use strict";
  function keepAnchor() {
    document.querySelectorAll("a.ecr-language-link").forEach(function (link) {
      var base = link.getAttribute("href").split("#")[0];
      link.setAttribute("href", base + window.location.hash);
    });
  }
  document.addEventListener("DOMContentLoaded", keepAnchor);
  window.addEventListener("hashchange", keepAnchor);
})();
