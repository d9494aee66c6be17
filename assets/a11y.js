/* Dash 4's dcc.Dropdown puts the Tab stop on a hidden proxy <input aria-hidden="true"
   tabindex="0"> that forwards focus to the real button (tabindex="-1"): axe-core reports
   "aria-hidden-focus", and a screen reader hears only the selected value, never the field's
   label. This moves the Tab stop to the button itself and names it by its <label> as well as its
   value. It keeps doing so as Dash renders and re-renders dropdowns (the button's blur handler
   gives the proxy its Tab stop back each time).
   Dash 4's RadioItems and Checklist wrap each native input in a <label role="option"> inside a
   role="listbox": interactive controls nested in interactive roles (axe "nested-interactive").
   The native inputs already say everything, so the roles go: a radiogroup or group of labels. */
(function () {
  var labelCount = 0;

  function labelOf(button) {
    var label = button.closest("label");
    if (!label && button.id) {
      label = document.querySelector('label[for="' + CSS.escape(button.id) + '"]');
    }
    if (!label) { return null; }
    if (!label.id) { label.id = "dropdown-label-" + (++labelCount); }
    return label.id;
  }

  function mend(wrapper) {
    var proxy = wrapper.querySelector("input.dash-dropdown-focus-target");
    var button = wrapper.querySelector("button.dash-dropdown");
    if (proxy && proxy.getAttribute("tabindex") !== "-1") { proxy.setAttribute("tabindex", "-1"); }
    if (!button) { return; }
    if (button.getAttribute("tabindex") !== "0" && !button.disabled) {
      button.setAttribute("tabindex", "0");
    }
    var label = labelOf(button);
    var named = button.getAttribute("aria-labelledby") || "";
    if (label && named.split(" ").indexOf(label) < 0) {
      button.setAttribute("aria-labelledby", (label + " " + named).trim());
    }
  }

  function mendOptions(list) {
    var role = list.classList.contains("dash-radioitems") ? "radiogroup" : "group";
    if (list.getAttribute("role") !== role) { list.setAttribute("role", role); }
    list.querySelectorAll("label.dash-options-list-option").forEach(function (label) {
      if (label.hasAttribute("role")) { label.removeAttribute("role"); }
      if (label.hasAttribute("aria-selected")) { label.removeAttribute("aria-selected"); }
    });
  }

  function mendAll() {
    document.querySelectorAll(".dash-dropdown-wrapper").forEach(mend);
    document.querySelectorAll(".dash-radioitems, .dash-checklist").forEach(mendOptions);
  }

  new MutationObserver(mendAll).observe(document.documentElement, {
    subtree: true, childList: true, attributes: true,
    attributeFilter: ["tabindex", "role", "aria-selected"]
  });
  document.addEventListener("DOMContentLoaded", mendAll);
})();
