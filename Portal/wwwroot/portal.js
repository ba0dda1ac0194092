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

  // Moves the keyboard focus to the first enabled control inside an element (a wizard step that just opened), or to the
  // one matching a selector when given. Does nothing when there is none.
  focusFirst(element, selector) {
    if (!element) return;
    const controls = "input:not([disabled]):not([type=hidden]), button:not([disabled]), select:not([disabled]), textarea:not([disabled]), a[href], [tabindex='0']";
    const target = (selector && element.querySelector(selector)) || element.querySelector(controls);
    target?.focus();
  },
};
