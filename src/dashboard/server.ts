/**
 * The dashboard's HTTP server: the page (/ and /app.js, served from this folder: no CDN), the
 * live snapshot pushed as Server-Sent Events (/events), the same as JSON (/snapshot.json) and the
 * Prometheus metrics (/metrics). A change is pushed at most every PUSH_EVERY_MS, and only when a
 * page is connected, so a run without viewers pays nothing but the bookkeeping.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InputError } from '../errors.ts';
import { METRICS_CONTENT_TYPE, prometheusText } from './metrics.ts';
import type { DashboardState, Snapshot } from './state.ts';

export const PUSH_EVERY_MS = 250;
const KEEPALIVE_MS = 15_000;

const asset = (name: string) => readFileSync(new URL(`./page/${name}`, import.meta.url), 'utf8');

export interface DashboardOptions {
  host: string;
  port: number;
  state: DashboardState;
  /** false: the watched runs have ended (a finished folder): times stop at their last event */
  live?: () => boolean;
  /** the flags that chose host and port, for the message when they cannot be used */
  flags?: { host: string; port: string };
}

export interface Dashboard {
  url: string;
  /** the state changed: pushed to the open pages soon */
  notify(): void;
  close(): Promise<void>;
}

function bindError(e: NodeJS.ErrnoException, o: DashboardOptions): Error {
  const flags = o.flags ?? { host: '--host', port: '--port' };
  const where = `${o.host}:${o.port}`;
  switch (e.code) {
    case 'EADDRINUSE':
      return new InputError(
        `the dashboard cannot listen on ${where}: port ${o.port} is in use; choose another ${flags.port} (0 = any free port)`,
      );
    case 'EACCES':
      return new InputError(
        `the dashboard cannot listen on ${where}: permission denied (ports below 1024 need privileges); choose another ${flags.port}`,
      );
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new InputError(
        `the dashboard cannot listen on ${where}: ${o.host} is not an address of this machine (${e.code}); fix ${flags.host}`,
      );
    default:
      return new Error(`the dashboard cannot listen on ${where}: ${e.message}`);
  }
}

export async function startDashboard(o: DashboardOptions): Promise<Dashboard> {
  const page = asset('index.html');
  const script = asset('app.js');
  const clients = new Set<ServerResponse>();
  const snapshot = (): Snapshot => o.state.snapshot(Date.now(), o.live?.() ?? true);
  const send = (res: ServerResponse, s: Snapshot) => res.write(`data: ${JSON.stringify(s)}\n\n`);

  const routes: Record<string, (req: IncomingMessage, res: ServerResponse) => void> = {
    '/': (_, res) => reply(res, 'text/html; charset=utf-8', page),
    '/app.js': (_, res) => reply(res, 'text/javascript; charset=utf-8', script),
    '/metrics': (_, res) => reply(res, METRICS_CONTENT_TYPE, prometheusText(snapshot())),
    '/snapshot.json': (_, res) => reply(res, 'application/json', JSON.stringify(snapshot())),
    '/events': (req, res) => {
      res.writeHead(200, {
        'Content-Type': 'text/event-stream',
        'Cache-Control': 'no-cache',
        Connection: 'keep-alive',
      });
      res.write('retry: 2000\n\n');
      send(res, snapshot());
      clients.add(res);
      req.on('close', () => clients.delete(res));
    },
  };
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://dashboard').pathname;
    const route = req.method === 'GET' ? routes[path] : undefined;
    if (route) route(req, res);
    else
      reply(
        res,
        'text/plain; charset=utf-8',
        `not found: ${path} (try /, /events, /metrics, /snapshot.json)\n`,
        req.method === 'GET' ? 404 : 405,
      );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(bindError(e as NodeJS.ErrnoException, o)));
    server.listen(o.port, o.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = o.host.includes(':') ? `[${o.host}]` : o.host;

  let pending: NodeJS.Timeout | null = null;
  const push = () => {
    pending = null;
    if (clients.size === 0) return;
    const s = snapshot();
    for (const res of clients) send(res, s);
  };
  const keepalive = setInterval(() => clients.forEach((res) => res.write(': keepalive\n\n')), KEEPALIVE_MS);
  keepalive.unref();
  return {
    url: `http://${host}:${port}/`,
    notify: () => {
      if (pending === null && clients.size > 0) pending = setTimeout(push, PUSH_EVERY_MS);
    },
    close: async () => {
      clearInterval(keepalive);
      if (pending) clearTimeout(pending);
      if (clients.size > 0) push();
      for (const res of clients) res.end();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function reply(res: ServerResponse, type: string, body: string, status = 200): void {
  res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' });
  res.end(body);
}
