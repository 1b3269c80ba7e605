// Progressive enhancement: the parts of a page marked data-live (with an id) are refreshed every 30 seconds from
// the same page, without a reload. Without JavaScript the page works the same, reloaded by hand.
(function () {
  "use strict";
  var ids = Array.prototype.map.call(document.querySelectorAll("[data-live][id]"), function (el) { return el.id; });
  if (!ids.length || !window.fetch || !window.DOMParser) { return; }
  setInterval(function () {
    fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null) { return; }
        var doc = new DOMParser().parseFromString(html, "text/html");
        ids.forEach(function (id) {
          var fresh = doc.getElementById(id);
          var current = document.getElementById(id);
          if (fresh && current) { current.replaceWith(document.importNode(fresh, true)); }
        });
      })
      .catch(function () { /* offline for a moment: the next round tries again */ });
  }, 30000);
})();
