import { describe, it } from "vitest";

/** A server some suites need (a broker, Redis), and how to get one. */
export interface NeededServer {
  /** As a sentence names it: "an AMQP broker", "a Redis". */
  what: string;
  /** The variable under which a missing server fails the suites instead of skipping them (CI sets it). */
  requireVar: string;
  howToStart: string;
}

/**
 * `describe` for suites that need a real server. With none answering
 * (`reason` says why), the suite is skipped with a note on how to start one,
 * so that `npm test` on a machine without it still runs everything else;
 * under `requireVar=1` it fails instead.
 */
export function describeWithServer(name: string, probe: { available: boolean; reason: string }, server: NeededServer, body: () => void): void {
  if (probe.available) {
    describe(name, body);
  } else if (process.env[server.requireVar] === "1") {
    describe(name, () => {
      it(`needs ${server.what} that answers (${server.requireVar}=1)`, () => {
        throw new Error(`${probe.reason}; ${server.howToStart}`);
      });
    });
  } else {
    console.warn(`skipping "${name}": ${probe.reason}; ${server.howToStart}. Set ${server.requireVar}=1 to fail instead.`);
    describe.skip(name, body);
  }
}
