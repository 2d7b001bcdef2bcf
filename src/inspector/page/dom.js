// Everything the page shows comes from the space: agent ids, action names and
// message arguments are chosen by whoever runs or talks to the agents. So
// text only ever goes in as text (textContent, attribute values), never as
// markup: there is no innerHTML anywhere in the page.

const SVG = "http://www.w3.org/2000/svg";

/** An element with attributes and children; strings become text nodes. */
export function el(tag, attributes = {}, ...children) {
  return fill(document.createElement(tag), attributes, children);
}

/** An SVG element, the same way. */
export function svg(tag, attributes = {}, ...children) {
  return fill(document.createElementNS(SVG, tag), attributes, children);
}

function fill(node, attributes, children) {
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    node.setAttribute(name, String(value));
  }
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    node.append(typeof child === "string" || typeof child === "number" ? document.createTextNode(String(child)) : child);
  }
  return node;
}

/** Removes every child of `node`. */
export function clear(node) {
  node.replaceChildren();
}

/** Sets a node's text only when it changed: the table is redrawn several times a second. */
export function setText(node, text) {
  const value = String(text);
  if (node.textContent !== value) node.textContent = value;
}

/** A number as a person reads it: 1234567 → "1.2M". */
export function compact(number) {
  if (number >= 1e6) return `${(number / 1e6).toFixed(1)}M`;
  if (number >= 1e4) return `${(number / 1e3).toFixed(1)}k`;
  return String(Math.round(number * 10) / 10);
}

/** Text cut to `length` characters, with an ellipsis when cut. */
export function cut(text, length) {
  return text.length > length ? `${text.slice(0, length - 1)}…` : text;
}

/** How two values sort: numbers by value, text in natural order (p2 before p10). */
export function naturalCompare(a, b) {
  if (a === b) return 0;
  if (a === undefined) return -1;
  if (b === undefined) return 1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  return collator.compare(String(a), String(b));
}

const collator = new Intl.Collator("en", { numeric: true });
