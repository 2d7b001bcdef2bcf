import type { Space } from "../index.js";
import { internalsOf } from "../extension.js";
import { paint } from "../colour.js";

/** Ids listed one a line when no filter is given, at most: a swarm is counted, not listed. */
export const LIST_AT_MOST = 100;

/**
 * What `.agents [filter]` prints: the agents counted by class (and by state,
 * where not all are running), then the ids whose id or class contains
 * `filter`, one a line with what runs in each; without a filter, the ids
 * only while there are few of them.
 */
export function agentCensus(space: Space, filter: string, colour: boolean): string[] {
  const described = internalsOf(space).describe();
  const byClass = new Map<string, Map<string, number>>();
  for (const { className, state } of described) {
    let states = byClass.get(className);
    if (!states) byClass.set(className, (states = new Map()));
    states.set(state, (states.get(state) ?? 0) + 1);
  }
  const classes = [...byClass].map(([className, states]) => {
    const total = [...states.values()].reduce((sum, n) => sum + n, 0);
    const notAllRunning = states.size > 1 || !states.has("running");
    const said = notAllRunning ? ` (${[...states].map(([state, n]) => `${count(n)} ${state}`).join(", ")})` : "";
    return `${className} ${count(total)}${said}`;
  });
  const lines = [`${count(described.length)} agent${described.length === 1 ? "" : "s"}: ${classes.join(", ")}`];
  const chosen = filter ? described.filter(({ id, className }) => id.includes(filter) || className.includes(filter)) : described;
  if (!filter && described.length > LIST_AT_MOST) {
    lines.push(paint(`.agents <filter> lists the ids whose id or class contains <filter>`, "dim", colour));
    return lines;
  }
  if (filter) lines.push(paint(`${count(chosen.length)} with "${filter}" in the id or class:`, "dim", colour));
  const stats = space.stats();
  const shown = chosen.slice(0, filter ? LIST_AT_MOST * 10 : LIST_AT_MOST);
  for (const { id, state } of shown) lines.push(withActivity(id, stats[id]?.loops ?? 0, stats[id]?.timers ?? 0, state, colour));
  if (shown.length < chosen.length) lines.push(paint(`… and ${count(chosen.length - shown.length)} more`, "dim", colour));
  return lines;
}

function count(n: number): string {
  return n.toLocaleString("en-US");
}

/** An agent's id, and what runs on its own in it (nothing for most agents), and its state when it is not running. */
function withActivity(id: string, loops: number, timers: number, state: string, colour: boolean): string {
  const running = [loops > 0 ? `${loops} loop${loops === 1 ? "" : "s"}` : "", timers > 0 ? `${timers} timer${timers === 1 ? "" : "s"}` : ""];
  const said = [running.filter(Boolean).join(", ") + (running.some(Boolean) ? " running" : ""), state === "running" ? "" : state].filter(Boolean).join("; ");
  return said ? `${id}  ${paint(`(${said})`, "dim", colour)}` : id;
}
