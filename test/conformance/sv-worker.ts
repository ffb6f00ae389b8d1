/**
 * Worker thread that runs `harrier` command lines in-process, one at a time:
 * it loads the CLI once and then takes {id, args} messages, answering
 * {id, code} with main()'s exit status. Starting a node process per test
 * costs ~1.5 s of CPU for module loading alone; on the shared 2-core machine
 * that was most of the suite's time. The parent (sv-run.ts) captures stderr,
 * enforces the time limit by terminating the worker, and recycles workers
 * after a number of tests so state cannot build up across many runs.
 */
import { parentPort, workerData } from 'node:worker_threads';

interface Job {
  id: number;
  args: string[];
}

const { mainModule } = workerData as { mainModule: string };
const { main } = (await import(mainModule)) as { main: (argv: string[]) => Promise<number> };

parentPort?.on('message', (job: Job) => {
  void (async () => {
    let code: number;
    try {
      code = await main(['node', 'harrier', ...job.args]);
    } catch (err) {
      process.stderr.write(`harrier: internal error: ${String((err as Error).message).split('\n')[0]}\n`);
      code = 1;
    }
    // Let stderr drain to the parent before the answer overtakes it.
    process.stderr.write('', () => parentPort?.postMessage({ id: job.id, code }));
  })();
});
parentPort?.postMessage({ ready: true });
