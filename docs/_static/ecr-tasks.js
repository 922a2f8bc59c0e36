// The language switch leads to the same place in the other language: it
// carries the part of the address after "#" (the section being read) along,
// and on the search page the query ("?q=login"), so that the other
// language's search runs at once.
(function () {
  "use strict";
  function onSearchPage() {
    return /(^|\/)search\.html$/.test(window.location.pathname);
  }
  function keepPlace() {
    var query = onSearchPage() ? window.location.search : "";
    document.querySelectorAll("a.ecr-language-link").forEach(function (link) {
      var base = link.getAttribute("href").split("#")[0].split("?")[0];
      link.setAttribute("href", base + query + window.location.hash);
    });
  }
  document.addEventListener("DOMContentLoaded", keepPlace);
  window.addEventListener("hashchange", keepPlace);
})();
