import type { MemberDescription } from "../supervisor.js";
import type { Space } from "../space.js";

/** What the inspector is given of its space: the public API, plus what only the space can say. */
export interface InspectedSpace {
  space: Space;
  /** Whether the space answers `inspect` from this process (debug mode). */
  debug: boolean;
  describe(): Array<MemberDescription & { id: string }>;
}
