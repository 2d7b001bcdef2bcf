import { el, setText } from "./dom.js?token=__TOKEN__";

// The page keeps this many lines; older ones scroll away for good.
const KEPT = 500;

/**
 * The Trace: the last messages, one `.trace` line each (who → whom, the
 * action and its arguments or the answer, the ids that pair them). Pausing
 * holds new lines back (the last KEPT of them) until resumed; the filter
 * shows only lines from or to agents whose id or class contains its text;
 * unticking "answers" hides the answers (a swarm's trace is mostly those).
 */
export class TracePanel {
  #list;
  #note;
  #button;
  #paused = false;
  #held = [];
  #lines = []; // { line, li }
  #filter = "";
  #answers = true;
  #classOf;
  #skipped = 0;
  /** Whether the list follows new lines: until the reader scrolls up, and again once back at the bottom. */
  #follow = true;

  /** `classOf(id)`: the class of agent `id`, when the page knows it. */
  constructor(list, pauseButton, filterInput, answersBox, note, classOf) {
    this.#list = list;
    this.#classOf = classOf;
    this.#note = note;
    this.#button = pauseButton;
    pauseButton.addEventListener("click", () => this.#toggle());
    // Only scrolling says where the reader is: a change of layout (wrapping) must not stop the following.
    list.addEventListener("scroll", () => {
      this.#follow = list.scrollTop + list.clientHeight >= list.scrollHeight - 8;
    });
    const refilter = () => {
      for (const entry of this.#lines) entry.li.hidden = !this.#matches(entry.line);
      this.#list.scrollTop = this.#list.scrollHeight; // the newest matching lines
      this.#follow = true;
    };
    filterInput.addEventListener("input", () => {
      this.#filter = filterInput.value.trim().toLowerCase();
      refilter();
    });
    answersBox.addEventListener("change", () => {
      this.#answers = answersBox.checked;
      refilter();
    });
  }

  /** Starts again from a snapshot's lines. */
  reset(lines) {
    this.#lines = [];
    this.#held = [];
    this.#list.replaceChildren();
    this.add(lines, 0);
  }

  /** New lines; `skipped` messages went by that no line shows (heavy traffic is sampled). */
  add(lines, skipped) {
    this.#skipped += skipped;
    if (this.#paused) {
      this.#held.push(...lines);
      if (this.#held.length > KEPT) this.#held.splice(0, this.#held.length - KEPT);
    } else this.#show(lines);
    this.#updateNote();
  }

  #show(lines) {
    for (const line of lines) {
      const li = el(
        "li",
        { class: `kind-${line.kind}`, "data-from": line.from, "data-to": line.to, title: new Date(line.at).toLocaleTimeString() },
        line.text,
      );
      li.hidden = !this.#matches(line);
      this.#list.append(li);
      this.#lines.push({ line, li });
    }
    while (this.#lines.length > KEPT) this.#lines.shift().li.remove();
    if (this.#follow) this.#list.scrollTop = this.#list.scrollHeight;
  }

  #matches(line) {
    if (!this.#answers && line.kind === "response") return false;
    const filter = this.#filter;
    if (!filter) return true;
    return [line.from, line.to, this.#classOf(line.from), this.#classOf(line.to)].some((text) => text !== undefined && text.toLowerCase().includes(filter));
  }

  #toggle() {
    this.#paused = !this.#paused;
    setText(this.#button, this.#paused ? "Resume" : "Pause");
    this.#button.setAttribute("aria-pressed", String(this.#paused));
    if (!this.#paused) {
      const held = this.#held;
      this.#held = [];
      this.#show(held);
    }
    this.#updateNote();
  }

  #updateNote() {
    const parts = [];
    if (this.#paused) parts.push(`paused: ${this.#held.length} new line${this.#held.length === 1 ? "" : "s"} held`);
    if (this.#skipped > 0) parts.push(`${this.#skipped} messages not shown (sampled under heavy traffic)`);
    setText(this.#note, parts.join(" · "));
  }
}
