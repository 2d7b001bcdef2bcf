export interface BenchMessage {
  meta: { id: string };
  from: string;
  to: string;
  action: { name: string; args: { n: number } };
}

export function makeMessage(n: number, from: string, to: string): BenchMessage;
