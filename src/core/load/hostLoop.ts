/**
 * Whether the process pgload runs in has a main event loop that serves more than pgload: an editor's extension host
 * answers the window (a click on Cancel, a command, the next progress report) on it. A load that keeps a core busy on
 * that loop delays those answers until it ends, so such a host asks once, at its start, that plain closed-loop clients
 * run on a worker thread even where one loop would carry them (loadLoops). The CLI keeps its main loop.
 */
import * as os from 'node:os';
import { chooseWorkers } from './workers';

let shared = false;

/** Called once by a host whose main loop must stay free for others (the VS Code extension); tests turn it off again. */
export function shareMainLoop(on = true): void {
  shared = on;
}

/**
 * The event loops that run a load's clients, and whether they are worker threads: threads only for plain closed-loop
 * clients (`whyOne` names what runs on one loop otherwise: a pool, a rate, a script…), as many as `workers` asks; one
 * thread even for a load one loop carries when this process's main loop serves others. `note` says when loops asked
 * for could not be used.
 */
export function loadLoops(workers: number | 'auto', clients: number, whyOne: string | undefined, cores = os.availableParallelism?.() ?? os.cpus().length): { loops: number; threads: boolean; note?: string } {
  const wanted = chooseWorkers(workers, clients, cores);
  if (whyOne) return { loops: 1, threads: false, note: wanted > 1 && workers !== 'auto' ? `${workers} event loops were asked for, and one was used: ${whyOne} runs on one.` : undefined };
  return { loops: wanted, threads: wanted > 1 || shared };
}
