import { Worker, type WorkerOptions } from "node:worker_threads";

// A worker inherits the parent's execArgv, loaders included: a process run
// under tsx would start each worker through tsx again (~12 s for 128 workers
// instead of ~4). Bundled agent modules need no loader, so leave them out.
const LOADER_FLAGS = /^(--import|--loader|--experimental-loader|--require|-r)(=|$)/;

/** The parent's flags a worker is started with, once known to be accepted (V8 flags such as --expose-gc are not). */
let accepted: string[] | undefined;

function withoutLoaders(argv: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    if (!LOADER_FLAGS.test(flag)) kept.push(flag);
    else if (!flag.includes("=")) i++; // skip the flag's value too
  }
  return kept;
}

/**
 * A Worker started with the parent's flags, minus loaders and minus those a
 * worker refuses (Node names them in ERR_WORKER_INVALID_EXEC_ARGV); what was
 * refused is left out of every later start.
 */
export function startWorker(url: URL, options: Omit<WorkerOptions, "execArgv">): Worker {
  const argv = accepted ?? withoutLoaders(process.execArgv);
  try {
    const worker = new Worker(url, { ...options, execArgv: argv });
    accepted = argv;
    return worker;
  } catch (error) {
    if ((error as { code?: unknown }).code !== "ERR_WORKER_INVALID_EXEC_ARGV" || argv.length === 0) throw error;
    const refused = new Set((error as Error).message.replace(/^.*flags:\s*/, "").split(/[,\s]+/));
    const kept = argv.filter((flag) => !refused.has(flag));
    accepted = kept.length < argv.length ? kept : [];
    return startWorker(url, options);
  }
}
