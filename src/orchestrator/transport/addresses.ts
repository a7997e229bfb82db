/** Where learners on other machines can reach an orchestrator listening on `host`. */
import os from 'node:os';

const wildcard = (host: string) => host === '0.0.0.0' || host === '::' || host === '';

/**
 * A wildcard address (0.0.0.0, ::) is where we listen, not where anyone can connect: list this
 * machine's non-internal interface addresses instead (IPv4 for 0.0.0.0, both families for ::),
 * or the loopback address when there is no other. Any other host is used as it is.
 */
export function reachableUrls(
  host: string,
  port: number,
  interfaces = os.networkInterfaces(),
  scheme: 'ws' | 'wss' = 'ws',
): string[] {
  const url = (address: string) => `${scheme}://${address.includes(':') ? `[${address}]` : address}:${port}`;
  if (!wildcard(host)) return [url(host)];
  const ipv6 = host === '::';
  const addresses = Object.values(interfaces)
    .flatMap((list) => list ?? [])
    .filter(
      (a) => !a.internal && (a.family === 'IPv4' || (ipv6 && a.family === 'IPv6' && !a.address.startsWith('fe80:'))),
    )
    .sort((a, b) => (a.family === b.family ? 0 : a.family === 'IPv4' ? -1 : 1))
    .map((a) => url(a.address));
  return addresses.length ? [...new Set(addresses)] : [url(ipv6 ? '::1' : '127.0.0.1')];
}

/** Whether only this machine can connect to `host` (then clear text is seen by nobody else). */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
