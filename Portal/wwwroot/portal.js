// Small browser helpers the portal calls through JS interop.
window.portal = {
  // Saves text as a file in the browser: the text goes nowhere else (used for the vault's recovery note).
  downloadText(fileName, text) {
    const url = URL.createObjectURL(new Blob([text], { type: "text/plain;charset=utf-8" }));
    const link = document.createElement("a");
    link.href = url;
    link.download = fileName;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  },

  // Remembers the theme chosen with the top bar's toggle for a year, in a cookie the server reads when it renders the next
  // page (so a full page load starts in that theme).
  rememberTheme(name, value) {
    document.cookie = `${name}=${value}; path=/; max-age=31536000; samesite=lax`;
  },

  // Makes a tab list (the restore wizard's stepper) one tab stop: only the active tab is in the tab order, the arrow keys,
  // Home and End move between the tabs and Enter or Space activates one. Kept up as the list re-renders.
  oneTabStop(selector) {
    const list = document.querySelector(selector);
    if (!list || list.dataset.oneTabStop) return;
    list.dataset.oneTabStop = "true";
    const tabs = () => [...list.querySelectorAll("[role=tab], .mud-step")].filter((t, i, all) => !all.some(o => o !== t && o.contains(t)));
    const apply = () => {
      const all = tabs();
      const active = all.find(t => t.getAttribute("aria-selected") === "true" || t.getAttribute("aria-current") === "step" || t.classList.contains("active")) || all[0];
      for (const tab of all) {
        const wanted = tab === active ? "0" : "-1";
        if (tab.getAttribute("tabindex") !== wanted) tab.setAttribute("tabindex", wanted);
        for (const inner of tab.querySelectorAll("button, a[href], input, [tabindex]")) {
          if (inner.getAttribute("tabindex") !== "-1") inner.setAttribute("tabindex", "-1");
        }
      }
    };
    apply();
    new MutationObserver(apply).observe(list, { subtree: true, childList: true, attributes: true, attributeFilter: ["aria-selected", "class"] });
    list.addEventListener("keydown", e => {
      const all = tabs();
      const current = all.findIndex(t => t.contains(document.activeElement));
      if (current < 0) return;
      if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        all[current].click();
        return;
      }
      const next = { ArrowRight: current + 1, ArrowDown: current + 1, ArrowLeft: current - 1, ArrowUp: current - 1, Home: 0, End: all.length - 1 }[e.key];
      if (next === undefined) return;
      e.preventDefault();
      const target = all[(next + all.length) % all.length];
      target.setAttribute("tabindex", "0");
      all[current].setAttribute("tabindex", "-1");
      target.focus();
    });
  },

  // Moves the keyboard focus to the first enabled control inside an element (a wizard step that just opened), or to the
  // one matching a selector when given. Does nothing when there is none.
  focusFirst(element, selector) {
    if (!element) return;
    const controls = "input:not([disabled]):not([type=hidden]), button:not([disabled]), select:not([disabled]), textarea:not([disabled]), a[href], [tabindex='0']";
    const target = (selector && element.querySelector(selector)) || element.querySelector(controls);
    target?.focus();
  },
};
