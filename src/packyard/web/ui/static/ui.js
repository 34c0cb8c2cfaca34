// Packyard's only script: tabs, copy buttons, and the delete confirmation.
// Loaded from /static (the Content-Security-Policy forbids inline scripts); every page
// also works without it: tab links reload the page, all snippets show.
// Targets are found relative to the control or by attributes the README sanitiser strips
// (role, data-*), never by a global id: a package's README may carry any id it likes.
"use strict";

function panelFor(control, selector) {
  const id = control.getAttribute("aria-controls");
  for (const panel of document.querySelectorAll(selector)) {
    if (panel.id === id) return panel;
  }
  return null;
}

function showTab(link) {
  const nav = link.closest("[role=tablist]");
  for (const other of nav.querySelectorAll("[data-tab]")) {
    const selected = other === link;
    other.setAttribute("aria-selected", selected ? "true" : "false");
    other.tabIndex = selected ? 0 : -1;
    const panel = panelFor(other, "section[role=tabpanel][data-panel]");
    if (panel) panel.hidden = !selected;
  }
  const url = new URL(window.location.href);
  url.searchParams.set("tab", link.dataset.tab);
  window.history.replaceState(null, "", url);
}

function showSubtab(button) {
  const group = button.dataset.subtab;
  for (const other of document.querySelectorAll(`[data-subtab="${group}"]`)) {
    const selected = other === button;
    other.setAttribute("aria-selected", selected ? "true" : "false");
    other.tabIndex = selected ? 0 : -1;
    const panel = panelFor(other, `section[role=tabpanel][data-subpanel="${group}"]`);
    if (panel) panel.hidden = !selected;
  }
}

function moveWithArrows(event, selector, activate) {
  if (event.key !== "ArrowRight" && event.key !== "ArrowLeft") return;
  const items = Array.from(event.target.closest("[role=tablist]").querySelectorAll(selector));
  const step = event.key === "ArrowRight" ? 1 : -1;
  const next = items[(items.indexOf(event.target) + step + items.length) % items.length];
  next.focus();
  activate(next);
  event.preventDefault();
}

async function copyText(button) {
  const source = button.closest(".code").querySelector("pre");
  const text = source.textContent;
  try {
    await navigator.clipboard.writeText(text);
  } catch (error) {
    const range = document.createRange();
    range.selectNodeContents(source);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    document.execCommand("copy");
  }
  button.textContent = "Copied";
  button.classList.add("copied");
  window.setTimeout(() => {
    button.textContent = "Copy";
    button.classList.remove("copied");
  }, 1500);
}

document.documentElement.classList.add("js");

document.addEventListener("DOMContentLoaded", () => {
  for (const panel of document.querySelectorAll("[data-initially-hidden]")) panel.hidden = true;
  for (const button of document.querySelectorAll("[data-subtab], [data-tab]")) {
    button.tabIndex = button.getAttribute("aria-selected") === "true" ? 0 : -1;
  }
  for (const input of document.querySelectorAll("[data-confirm-target]")) {
    const button = input.form.querySelector(`button[id="${input.dataset.confirmTarget}"]`);
    const update = () => { button.disabled = input.value.trim() !== input.dataset.expected; };
    input.addEventListener("input", update);
    update();
  }
});

document.addEventListener("click", (event) => {
  const tab = event.target.closest("[data-tab]");
  if (tab && !event.ctrlKey && !event.metaKey && !event.shiftKey) {
    event.preventDefault();
    showTab(tab);
    return;
  }
  const subtab = event.target.closest("[data-subtab]");
  if (subtab) {
    showSubtab(subtab);
    return;
  }
  const copy = event.target.closest("[data-copy]");
  if (copy) copyText(copy);
});

document.addEventListener("keydown", (event) => {
  if (event.target.matches("[data-tab]")) moveWithArrows(event, "[data-tab]", showTab);
  else if (event.target.matches("[data-subtab]")) moveWithArrows(event, "[data-subtab]", showSubtab);
});
