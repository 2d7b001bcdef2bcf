/**
 * Every wait in a benchmark has a deadline, so that a broken worker or broker
 * fails the scenario with a message instead of hanging the run (the test suite
 * runs `--quick` and must never hang).
 */
export function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}
