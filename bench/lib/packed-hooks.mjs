// Module hooks of a --packed run (registered by packed-loader.mjs): the bare
// name "agentspace", imported by any bench module, is the installed package's
// entry, as it is in a user's project. Worker threads need no hook: agent
// bundles import the library by that entry's URL (the installed bundler does
// so when it runs from dist), and workers start without loaders.

let entry;

export function initialize(data) {
  entry = data.entry;
}

export function resolve(specifier, context, nextResolve) {
  if (specifier === "agentspace") return { url: entry, shortCircuit: true };
  return nextResolve(specifier, context);
}
