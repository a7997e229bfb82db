/**
 * Hosts' claims on learner ids (--learner-ids auto:N): a host without ids asks for some, and they are
 * its own while its claim connection lasts; then they are free for the next host that asks.
 */
import { randomBytes } from 'node:crypto';
import type { WebSocket } from 'ws';

export interface HostClaim {
  ws: WebSocket;
  claim: string;
  ids: number[];
  alive: boolean; // a pong or a frame arrived since the last beat
  missedBeats: number;
}

export class HostClaims {
  private readonly byClaim = new Map<string, HostClaim>();
  private readonly claimOfId = new Map<number, string>();

  grant(ws: WebSocket, ids: number[]): HostClaim {
    const claim: HostClaim = { ws, claim: randomBytes(8).toString('hex'), ids, alive: true, missedBeats: 0 };
    this.byClaim.set(claim.claim, claim);
    for (const id of ids) this.claimOfId.set(id, claim.claim);
    return claim;
  }

  /** Frees the claim's ids; false when it had ended already. */
  end(claim: HostClaim): boolean {
    if (this.byClaim.get(claim.claim) !== claim) return false;
    this.byClaim.delete(claim.claim);
    for (const id of claim.ids) if (this.claimOfId.get(id) === claim.claim) this.claimOfId.delete(id);
    return true;
  }

  /** The claim that holds an id, if any. */
  claimOf(id: number): string | undefined {
    return this.claimOfId.get(id);
  }

  values(): IterableIterator<HostClaim> {
    return this.byClaim.values();
  }
}
