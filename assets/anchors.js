/* Dash draws a page after the browser has looked for the address's #anchor, so the browser
   never scrolls to it: once the element named by the hash exists, scroll to it and move the
   focus there (so keyboard and screen-reader users land on the definition too). */
(function () {
  var done = null;

  function land() {
    var hash = decodeURIComponent(window.location.hash.slice(1));
    var key = window.location.pathname + "#" + hash;
    if (!hash || done === key) { return; }
    var target = document.getElementById(hash);
    if (!target) { return; }
    done = key;
    if (!target.hasAttribute("tabindex")) { target.setAttribute("tabindex", "-1"); }
    target.scrollIntoView({block: "start"});
    target.focus({preventScroll: true});
  }

  new MutationObserver(land).observe(document.documentElement, {subtree: true, childList: true});
  window.addEventListener("hashchange", function () { done = null; land(); });
})();
