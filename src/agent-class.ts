import type { Agent } from "./agent.js";

/** An agent class: constructed as `new Cls(id, init)`. */
export type AgentClass<A extends Agent = Agent> = (new (id: string, init: never) => A) & {
  /** Where worker-based spaces import the class from: `import.meta.url`. */
  module?: string;
  /** Take the next message only once the previous action has settled. */
  serial?: boolean;
  /** Its state outlives crashes, restarts and moves (see durable-state.ts); implies `serial`. */
  durable?: boolean;
};

/** The `init` an agent class's constructor takes. */
export type InitOf<C extends AgentClass> = C extends new (id: string, init: infer I) => Agent ? I : never;

/** The class's own `static module`, or undefined (a subclass does not inherit its parent's: it lives in another file). */
export function ownModule(Cls: AgentClass): string | undefined {
  return Object.hasOwn(Cls, "module") && typeof Cls.module === "string" ? Cls.module : undefined;
}

/** The module a worker imports `Cls` from, or a clear error saying how to declare it. */
export function moduleOf(Cls: AgentClass): string {
  const module = ownModule(Cls);
  if (module === undefined && Object.hasOwn(Cls, "module")) {
    // Declared, and empty: `import.meta.url` has no value where the module was compiled as CommonJS.
    throw new TypeError(
      `${Cls.name}'s static module is ${String(Cls.module)}: import.meta.url was empty, so its module ran as CommonJS. ` +
        `Agent modules must be ES modules: add "type": "module" to your package.json (npm init -y writes "commonjs"), or name the file .mts`,
    );
  }
  if (module === undefined) {
    throw new TypeError(
      `${Cls.name} has no static module of its own, so a worker cannot load it: ` +
        `add \`static module = import.meta.url;\` to class ${Cls.name}`,
    );
  }
  return module;
}

/** Whether `Cls` keeps its state (`static durable = true`, its own or inherited). */
export function isDurable(Cls: AgentClass): boolean {
  return Cls.durable === true;
}
