import type { AgentClass } from "./agent-class.js";
import type { ActionOptions } from "./action.js";
import type { DebugMode } from "./debug-gate.js";
import type { Member, MemberDescription } from "./supervisor.js";

/**
 * The one way features built on a space (the inspector, live reload, the
 * REPL) reach it beyond its public API, and the features the space offers
 * whose code lives above it. The space imports none of them: the library's
 * entry installs them (loaded on first use), and each gets what only the
 * space knows through `internalsOf`.
 */

/** What only the space knows, for features. */
export interface SpaceInternals {
  /** Who may call the debug actions (`inspect`, `eval`). */
  readonly debug: DebugMode;
  /** Per agent of this process, read-only and cheap: its class, the thread it runs in and its state. */
  describe(): Array<MemberDescription & { id: string }>;
  /** The agents of this process that a reload may swap. */
  members(): Iterable<[string, Member]>;
}

/** Where `space.openInspector` serves its page. */
export interface InspectorOptions {
  /** 0 (the default): any free port; `url` tells which. */
  port?: number;
  /** Default 127.0.0.1: only this machine can reach the page. */
  host?: string;
}

/** A running inspector: its page's address, and how to stop serving it. */
export interface Inspector {
  /** `http://HOST:PORT/?token=…`: the token is needed on every request. */
  readonly url: string;
  /** Stops serving and ends every open page's stream; settles once the port is free. */
  close(): Promise<void>;
  /** Settles once closed, by `close()` or by the space's `destroy()`. */
  readonly closed: Promise<void>;
}

/** What `space.reload` takes: a module's URL or path, or an agent class (its `static module`). */
export type ReloadTarget = string | URL | AgentClass;

/** What `space.reload` resolves with. */
export interface ReloadReport {
  /** The source module reloaded, as a file: URL. */
  module: string;
  /** The agents now running its new code. */
  agents: string[];
}

/** The features a space offers whose code lives above it. */
export interface Features {
  openInspector(space: object, options: InspectorOptions): Promise<Inspector>;
  reload(space: object, target: ReloadTarget): Promise<ReloadReport>;
  defineAction(space: object, id: string, name: string, source: string, options: ActionOptions): Promise<string[]>;
}

const spaces = new WeakMap<object, SpaceInternals>();
let installed: Features | undefined;

/** Called by each space as it is made. */
export function expose(space: object, internals: SpaceInternals): void {
  spaces.set(space, internals);
}

/** What only `space` knows; a TypeError for anything that is not a space. */
export function internalsOf(space: object): SpaceInternals {
  const internals = spaces.get(space);
  if (!internals) throw new TypeError("not an agentspace space");
  return internals;
}

/** Called once by the library's entry (index.ts). */
export function installFeatures(features: Features): void {
  installed = features;
}

/** The installed features; a clear error when the library was imported past its entry. */
export function features(): Features {
  if (!installed) throw new Error('this feature needs the library\'s entry: import from "agentspace", not from its files');
  return installed;
}
