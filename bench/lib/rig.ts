/**
 * A rig: what a figure sets up once (workers, ports, connections) and then
 * times many times. Setting up stays outside the timed runs, and `close`
 * always runs, so a failing figure leaves no worker behind.
 */
export interface Rig<T> {
  once(): Promise<T>;
  close(): Promise<void>;
}

export async function withRig<T, R>(
  rig: Rig<T> | Promise<Rig<T>>,
  measure: (once: () => Promise<T>) => Promise<R>,
): Promise<R> {
  const ready = await rig;
  try {
    return await measure(() => ready.once());
  } finally {
    await ready.close();
  }
}
