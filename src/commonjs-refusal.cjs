// What `require("agentspace")` gets: the package is ES modules only, and Node 20 cannot
// require one. Said plainly, naming the fix, instead of ERR_PACKAGE_PATH_NOT_EXPORTED.
throw new Error(
  'agentspace is an ES module, and this code loads it as CommonJS (require). Make your project ES modules: ' +
    'add "type": "module" to its package.json (npm init -y writes "commonjs"), or name your files .mts; ' +
    'then import { Agent, LocalSpace } from "agentspace".',
);
