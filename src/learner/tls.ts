/**
 * How a learner trusts a wss:// orchestrator, and which connection failures no retry can fix: a
 * certificate that does not verify, TLS on one side only. Those end the learner at once with one
 * line that says what to change; everything else (not started yet, network down) is retried.
 */
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type WebSocket from 'ws';
import { rootCertificates } from 'node:tls';
import { InputError } from '../errors.ts';
import { TLS_REQUIRED_HEADER } from '../protocol/messages.ts';

export interface TlsTrust {
  /** trust anchors (PEM); undefined: Node's own */
  ca?: (string | Buffer)[];
  /** trust exactly the certificate with this SHA-256 fingerprint (a spawned host and its run's own cert) */
  pin?: string;
}

/** Where Debian/Ubuntu, Fedora/RHEL and Alpine/macOS keep the system's CA bundle. */
const SYSTEM_CA_FILES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt', '/etc/ssl/cert.pem'];

/**
 * `--ca FILE`: that file's certificates alone. Otherwise Node's bundled CAs and the system's
 * bundle (SSL_CERT_FILE, else the distribution's), so a certificate the machine trusts verifies.
 */
export function learnerTrust(caFile: string | undefined, env: NodeJS.ProcessEnv = process.env): TlsTrust {
  if (caFile !== undefined) {
    let pem: Buffer;
    try {
      pem = readFileSync(caFile);
    } catch (e) {
      throw new InputError(`cannot read --ca ${caFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    // Node would ignore such a file, and the certificate would then "not verify": say what is wrong instead.
    if (!holdsCertificate(pem))
      throw new InputError(
        `--ca ${caFile} holds no PEM certificate (a CA's certificate begins with -----BEGIN CERTIFICATE-----; its key is not one)`,
      );
    return { ca: [pem] };
  }
  const pin = env.MEL_TLS_PIN;
  if (pin) return { pin };
  const system = [env.SSL_CERT_FILE, ...SYSTEM_CA_FILES].find((f) => f !== undefined && existsSync(f));
  return system ? { ca: [...rootCertificates, readFileSync(system)] } : {};
}

/** Whether a PEM file holds at least one certificate that parses. */
function holdsCertificate(pem: Buffer): boolean {
  const blocks = pem.toString('latin1').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.some((block) => {
    try {
      new X509Certificate(block);
      return true;
    } catch {
      return false;
    }
  });
}

/** The WebSocket client's TLS options for `trust` (a pin is checked by `pinProblem` once connected). */
export function tlsClientOptions(trust: TlsTrust | undefined): {
  ca?: (string | Buffer)[];
  rejectUnauthorized?: boolean;
} {
  if (trust?.pin) return { rejectUnauthorized: false };
  return trust?.ca ? { ca: trust.ca } : {};
}

/** Why a pinned connection must not go on (its certificate is not the run's), or null. */
export function pinProblem(trust: TlsTrust | undefined, response: IncomingMessage): string | null {
  if (!trust?.pin) return null;
  const socket = response.socket as TLSSocket;
  const seen = typeof socket.getPeerCertificate === 'function' ? socket.getPeerCertificate().fingerprint256 : undefined;
  return seen === trust.pin
    ? null
    : `the orchestrator's certificate (${seen ?? 'none'}) is not the run's (${trust.pin})`;
}

/** Verification failures as OpenSSL and Node name them. */
const CERT_FAILURE =
  /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY|DECRYPT|DECODE)|HOSTNAME|INVALID_CA|PATH_LENGTH|INVALID_PURPOSE|ALTNAME/;

/** A connection error retrying cannot fix, as the line to show; null: retry. */
export function connectRefusal(url: string, error: Error & { code?: string }): string | null {
  const code = error.code ?? '';
  if (url.startsWith('wss:') && CERT_FAILURE.test(code))
    return `the orchestrator's TLS certificate does not verify (${code}: ${error.message}); pass the CA that signed it with --ca FILE`;
  if (
    url.startsWith('wss:') &&
    (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || /wrong version number|packet length too long/.test(error.message))
  )
    return `${url} does not speak TLS (its answer to the TLS handshake is not TLS); connect with ws:// or start the orchestrator with --tls-cert and --tls-key`;
  return null;
}

/** The reason a refusing HTTP answer gives (a plain client at a TLS orchestrator), or null for any other answer. */
export function responseRefusal(response: IncomingMessage): string | null {
  const reason = response.headers[TLS_REQUIRED_HEADER];
  return response.statusCode === 426 && typeof reason === 'string' ? reason : null;
}

/** How a connection attempt went before it opened. */
export interface ConnectWatch {
  opened: () => boolean;
  /** a failure no retry fixes, as the line to show; null: none */
  refusal: () => string | null;
  /** why it did not open, to retry (no route, refused, an HTTP answer instead of a WebSocket) */
  failure: () => string;
}

/**
 * Watches a WebSocket until it opens. A pinned certificate that is not the run's, a refusing HTTP
 * answer and TLS failures are refusals, and the socket is closed at once — before any hello, so the
 * token never reaches an impostor; other failures are kept as the reason to retry.
 */
export function watchConnect(ws: WebSocket, url: string, trust: TlsTrust | undefined): ConnectWatch {
  let opened = false;
  let refusal: string | null = null;
  let failure = '';
  const refuse = (reason: string) => {
    refusal ??= reason;
    ws.terminate();
  };
  ws.on('upgrade', (response) => {
    const problem = pinProblem(trust, response);
    if (problem) refuse(problem);
  });
  ws.on('unexpected-response', (_request, response) => {
    const refused = responseRefusal(response);
    if (refused !== null) return refuse(refused);
    failure = `unexpected server response: ${response.statusCode}`; // a proxy while the orchestrator starts: retried
    ws.terminate();
  });
  ws.on('open', () => (opened = true));
  ws.on('error', (err) => {
    if (opened) return;
    refusal ??= connectRefusal(url, err);
    failure ||= err.message;
  });
  return { opened: () => opened, refusal: () => refusal, failure: () => failure };
}
