/**
 * Setup file of the unit project: a unit test may not start a process or open a socket. Either
 * throws here, naming the way out, so a slow test cannot slip into the fast target unnoticed.
 */
import childProcess from 'node:child_process';
import { syncBuiltinESMExports } from 'node:module';
import net from 'node:net';

const refuse = (what: string) => () => {
  throw new Error(`unit tests may not ${what}: name this file *.e2e.test.ts (run by npm run test:e2e)`);
};

for (const fn of ['spawn', 'fork', 'exec', 'execFile', 'spawnSync', 'execSync', 'execFileSync'] as const)
  (childProcess as Record<string, unknown>)[fn] = refuse('start a process');
net.Server.prototype.listen = refuse('listen on a socket') as never;
net.Socket.prototype.connect = refuse('open a socket') as never;
syncBuiltinESMExports();
