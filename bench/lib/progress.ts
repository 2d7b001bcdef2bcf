/**
 * A one-line progress bar on stderr. It draws nothing when stderr is not a
 * terminal, so logs, CI and the test suite see only the tables on stdout.
 */

export interface Progress {
  begin(title: string, total: number): void;
  step(): void;
  end(): void;
}

const silent: Progress = { begin() {}, step() {}, end() {} };

const BAR_WIDTH = 20;

export function progressBar(stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY) return silent;
  let title = "";
  let total = 0;
  let done = 0;
  let started = 0;
  const draw = () => {
    const filled = total === 0 ? 0 : Math.round((done / total) * BAR_WIDTH);
    const bar = "#".repeat(filled) + ".".repeat(BAR_WIDTH - filled);
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    const line = `[${bar}] ${done}/${total} ${seconds}s ${title}`;
    stream.write(`\r\x1b[K${line.slice(0, (stream.columns || 80) - 1)}`);
  };
  return {
    begin(newTitle, newTotal) {
      title = newTitle;
      total = newTotal;
      done = 0;
      started = Date.now();
      draw();
    },
    step() {
      done += 1;
      draw();
    },
    end() {
      stream.write("\r\x1b[K");
    },
  };
}
