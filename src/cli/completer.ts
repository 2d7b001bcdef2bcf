import type { Space } from "../index.js";

/** What readline takes from a completer: the candidates, and the text they would replace. */
export type Completion = [candidates: string[], replacing: string];

export interface CompleterOptions {
  /** Whether `inspect` and `eval` are open, so worth offering. */
  debug: boolean;
  /** The agent id of the handle held by a variable, as in `calc.` for `const calc = space.handle("calc")`. */
  handleAt(path: string[]): Promise<string | undefined>;
}

// An agent id being typed as the first argument of handle/remove, or as a message's `to`.
const idArgument = /(?:\.(?:handle|remove)\(\s*|\bto\s*:\s*)["'`]([^"'`\\]*)$/;
// An action name being typed on a handle made on the spot: space.handle("calc").ad
const onHandleCall = /\.handle\(\s*(["'`])([^"'`\\]+)\1\s*(?:,[^()]*)?\)\s*\.\s*([\w$]*)$/;
// An action name being typed on a variable: calc.ad, or this.calc.ad
const onVariable = /(?:^|[^\w$.])([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)\.([\w$]*)$/;

// Completion waits on the agent's `help` answer; a busy agent must not freeze the prompt for long.
const helpTimeoutMs = 2_000;

/**
 * Tab completion that knows the space: agent ids inside `space.handle("…`,
 * `space.remove("…` and `to: "…`, and action names after a handle, fetched
 * from the agent with the built-in `help` action and kept until that agent
 * leaves. Anything else is left to the REPL's own completion.
 */
export class SpaceCompleter {
  #space: Space;
  #options: CompleterOptions;
  #actions = new Map<string, Promise<string[]>>();

  constructor(space: Space, options: CompleterOptions) {
    this.#space = space;
    this.#options = options;
    // An id that leaves may come back as another class: ask again then.
    const forget = (id: string): void => void this.#actions.delete(id);
    space.on("agent:removed", forget);
    space.on("agent:added", forget);
  }

  /** The completion of `line` (the text before the cursor), or undefined when it is not about agents. */
  async complete(line: string): Promise<Completion | undefined> {
    const id = idArgument.exec(line);
    if (id) return matching(this.#space.agents, id[1]!);

    const call = onHandleCall.exec(line);
    if (call) return matching(await this.actionNames(call[2]!), call[3]!);

    const member = onVariable.exec(line);
    const target = member ? await this.#options.handleAt(member[1]!.split(".")) : undefined;
    return target === undefined ? undefined : matching(await this.actionNames(target), member![2]!);
  }

  /** The actions agent `id` answers to, built-in ones included; none if it does not answer `help`. */
  actionNames(id: string): Promise<string[]> {
    let names = this.#actions.get(id);
    if (!names) {
      names = this.#fetchActionNames(id);
      this.#actions.set(id, names);
      const asked = names;
      // A failure is not kept: the agent may be there next time.
      asked.catch(() => this.#actions.get(id) === asked && this.#actions.delete(id));
    }
    return names.catch(() => []);
  }

  async #fetchActionNames(id: string): Promise<string[]> {
    const own = await this.#space.handle(id, { timeoutMs: helpTimeoutMs }).help();
    const builtIn = this.#options.debug ? ["help", "inspect", "eval"] : ["help"];
    return [...new Set([...Object.keys(own), ...builtIn])].sort();
  }
}

function matching(names: string[], typed: string): Completion {
  return [names.filter((name) => name.startsWith(typed)), typed];
}
