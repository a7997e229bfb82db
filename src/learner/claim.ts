/**
 * A learner host without ids (--learner-ids auto:N): a connection of its own asks the orchestrator
 * for N ids and holds them while it lasts. When the host dies the connection ends and the ids are
 * free for the next host that asks (a replacement pod), so nobody has to hand out id ranges.
 */
import WebSocket from 'ws';
import {
  CLOSE,
  decodeToLearner,
  encodeMessage,
  FATAL_CLOSE_CODES,
  PROTOCOL_VERSION,
  ProtocolError,
} from '../protocol/messages.ts';
import { parseIdRanges } from '../util/id-ranges.ts';
import { tlsClientOptions, watchConnect, type TlsTrust } from './tls.ts';

export interface ClaimOptions {
  url: string;
  token: string;
  count: number;
  tls?: TlsTrust;
}

/** How a claim connection ended after its grant: a run that finished, or a loss (the host should go). */
export interface ClaimEnd {
  finished: boolean;
  detail: string;
}

export type ClaimOutcome =
  | { kind: 'granted'; claim: string; ids: number[]; ended: Promise<ClaimEnd> }
  /** unreachable: worth retrying; refused / rejected: the orchestrator or the connection says no for good */
  | { kind: 'unreachable' | 'refused' | 'rejected'; reason: string };

/** Ends that are the run's, not a fault: the orchestrator finished or is shutting down. */
const FINISHED_CODES: ReadonlySet<number> = new Set([CLOSE.done.code, CLOSE.shutdown.code]);

/** One claim attempt. */
export function claimIds(o: ClaimOptions): Promise<ClaimOutcome> {
  const ws = new WebSocket(o.url, { perMessageDeflate: false, maxPayload: 64 * 1024, ...tlsClientOptions(o.tls) });
  return new Promise((resolve) => {
    const connect = watchConnect(ws, o.url, o.tls);
    let invalid: string | null = null; // an answer to the claim that is not a valid grant
    let detail = ''; // the orchestrator's error frame before it closes (how many ids are free)
    let markEnded: (end: ClaimEnd) => void = () => {};
    let granted = false;
    ws.on('open', () =>
      ws.send(
        encodeMessage({ type: 'claim', protocol: PROTOCOL_VERSION, token: o.token, count: o.count, pid: process.pid }),
      ),
    );
    ws.on('message', (data: Buffer) => {
      try {
        const message = decodeToLearner(data, null);
        if (message.type === 'error') detail = message.message;
        if (message.type !== 'grant' || granted) return;
        const ids = parseIdRanges(message.ids);
        if (ids.length !== o.count)
          throw new ProtocolError('bad_field', `granted ${ids.length} ids, asked for ${o.count}`);
        granted = true;
        resolve({ kind: 'granted', claim: message.claim, ids, ended: new Promise((r) => (markEnded = r)) });
      } catch (e) {
        invalid = `the orchestrator's answer to the claim is not valid: ${(e as Error).message}`;
        ws.terminate();
      }
    });
    ws.on('close', (code, reasonBuf) => {
      const reason = `${code}${reasonBuf.length ? ' ' + reasonBuf.toString() : ''}`;
      if (granted) return markEnded({ finished: FINISHED_CODES.has(code), detail: reason });
      const refusal = invalid ?? connect.refusal();
      if (refusal !== null) return resolve({ kind: 'rejected', reason: refusal });
      if (FATAL_CLOSE_CODES.has(code))
        return resolve({ kind: 'refused', reason: detail ? `${reasonBuf.toString()}: ${detail}` : reason });
      resolve({ kind: 'unreachable', reason: connect.failure() || reason });
    });
  });
}

/** Claims, retrying an orchestrator that is not up yet for `retryS` (a host may start first). */
export async function claimWithRetry(
  o: ClaimOptions,
  retryS: number,
  warn: (line: string) => void,
): Promise<ClaimOutcome> {
  const deadline = Date.now() + retryS * 1000;
  for (let attempt = 1; ; attempt++) {
    const outcome = await claimIds(o);
    if (outcome.kind !== 'unreachable' || Date.now() > deadline) return outcome;
    if (attempt === 1) warn(`cannot claim ids at ${o.url} yet (${outcome.reason}); retrying for up to ${retryS} s`);
    await new Promise((r) => setTimeout(r, Math.min(5000, 250 * 2 ** Math.min(attempt, 5))));
  }
}
