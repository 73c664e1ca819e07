/**
 * Functions that run inside the page (the drivers serialize them), so both
 * drivers match text the same way: whitespace collapsed, hidden elements
 * ignored. They declare no inner named functions: a transpiler that keeps names
 * would wrap those in a helper the page does not have.
 */

/** True when an element matching `selector` is visible and shows `text` (exactly, in itself or a descendant). */
export function pageHasText(query: { selector: string; text: string; exact: boolean }): boolean {
  for (const root of Array.from(document.querySelectorAll(query.selector))) {
    if (typeof root.checkVisibility === 'function' && !root.checkVisibility()) continue;
    const candidates = query.exact ? [root, ...Array.from(root.querySelectorAll('*'))] : [root];
    for (const element of candidates) {
      const shown = (element.textContent ?? '').replace(/\s+/g, ' ').trim();
      const matches = query.exact ? shown === query.text : shown.includes(query.text);
      if (matches && (typeof element.checkVisibility !== 'function' || element.checkVisibility())) return true;
    }
  }
  return false;
}
