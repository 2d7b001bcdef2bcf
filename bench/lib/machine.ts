/** What the figures were measured on: kept with every result, since figures from different machines or days do not compare. */
import os from "node:os";
import { libraryInfo, type LibraryInfo } from "./library.js";

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  node: string;
  platform: string;
  arch: string;
  /** 1-minute load average when the scenario started: a hint of how noisy the machine was. */
  loadAverage1m: number;
  date: string;
  /** The agentspace measured: the source tree, or the packed package (--packed). */
  library: LibraryInfo;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? "unknown",
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: os.platform(),
    arch: os.arch(),
    loadAverage1m: Math.round(os.loadavg()[0]! * 100) / 100,
    date: new Date().toISOString(),
    library: libraryInfo(),
  };
}

export function describeMachine(info: MachineInfo): string {
  const library = info.library.packed ? `agentspace ${info.library.version} packed (${info.library.entry})` : "agentspace from source";
  return `${info.cpuModel}, ${info.cores} cores, ${info.memoryGiB} GiB, node ${info.node}, load ${info.loadAverage1m}, ${info.date}; ${library}`;
}
