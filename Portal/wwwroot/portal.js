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
};
