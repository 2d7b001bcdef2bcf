import type { MemberDescription } from "../in-thread.js";
import type { Space } from "../space.js";

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

/** What the inspector is given of its space: the public API, plus what only the space can say. */
export interface InspectedSpace {
  space: Space;
  /** Whether the space answers `inspect` from this process (debug mode). */
  debug: boolean;
  describe(): Array<MemberDescription & { id: string }>;
}
