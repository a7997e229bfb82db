/**
 * A one-connection orchestrator the test scripts frame by frame, and a learner session against it
 * (learner-session and learner-model tests). Call `closeScriptedOrchestrator` after each test.
 */
import { WebSocketServer, type WebSocket as ServerSocket } from 'ws';
import { runLearnerSession } from '../../src/learner/client.ts';

let server: WebSocketServer | null = null;

/** Listens on a free port; `script` runs once the learner said hello, with every frame it sends kept in `frames`. */
export async function scriptedOrchestrator(script: (ws: ServerSocket, frames: Buffer[]) => void): Promise<string> {
  server = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 16 * 1024 * 1024 });
  await new Promise((r) => server!.once('listening', r));
  server.on('connection', (ws) => {
    const frames: Buffer[] = [];
    ws.on('message', (d: Buffer) => frames.push(d));
    ws.once('message', () => script(ws, frames));
  });
  return `ws://127.0.0.1:${(server.address() as { port: number }).port}`;
}

export async function closeScriptedOrchestrator(): Promise<void> {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = null;
}

/** Learner 0 (1 GHz, 100 Mbit/s) joining `url` with token "t". */
export const learnerSession = (url: string) =>
  runLearnerSession({ url, token: 't', learnerId: 0, profile: { f_hz: 1e9, rate_bps: 1e8 } });
