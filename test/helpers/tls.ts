/**
 * https on loopback for browser tests: a self-signed certificate made at run time (the
 * `selfsigned` package, pure JS over WebCrypto: no `openssl` binary, no network) and a TLS
 * terminator that forwards the decrypted bytes to a plain-http server, as a production reverse
 * proxy would.
 */
import type { TestContext } from 'node:test'
import { connect, type Socket } from 'node:net'
import { createServer } from 'node:tls'
import { generate } from 'selfsigned'

export interface Certificate {
  readonly key: string
  readonly cert: string
}

/** A certificate for `localhost` and 127.0.0.1, valid from a minute ago for a day (P-256). */
export async function selfSignedCertificate(): Promise<Certificate> {
  const now = Date.now()
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: new Date(now - 60_000),
    notAfterDate: new Date(now + 86_400_000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  })
  return { key: pems.private, cert: pems.cert }
}

export interface TlsProxy {
  readonly port: number
  /** `https://localhost:<port>`. */
  readonly origin: string
  /** Where decrypted connections go (a port on 127.0.0.1); connections before this are refused. */
  forwardTo(port: number): void
}

/**
 * A TLS terminator on 127.0.0.1 (an ephemeral port) in front of a plain-http server, forwarding
 * raw bytes both ways (ALPN offers HTTP/1.1 only). Closed, with every connection, when the test ends.
 */
export async function startTlsProxy(t: TestContext, certificate?: Certificate): Promise<TlsProxy> {
  const { key, cert } = certificate ?? (await selfSignedCertificate())
  let target: number | null = null
  const sockets = new Set<Socket>()
  const track = (socket: Socket): void => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  }
  const server = createServer({ key, cert, ALPNProtocols: ['http/1.1'] }, (client) => {
    track(client)
    if (target === null) {
      client.destroy()
      return
    }
    const upstream = connect(target, '127.0.0.1')
    track(upstream)
    const end = (): void => {
      client.destroy()
      upstream.destroy()
    }
    client.on('error', end).on('close', end)
    upstream.on('error', end).on('close', end)
    client.pipe(upstream).pipe(client)
  })
  // every TCP connection, from its first byte: a browser's speculative preconnect may never
  // finish (or even start) its handshake, and `server.close()` waits for it
  server.on('connection', track)
  // handshake failures (a client that distrusts the certificate) are the client's business
  server.on('tlsClientError', () => {})
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  t.after(async () => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()))
    for (const socket of sockets) socket.destroy()
    await closed
  })
  return {
    port,
    origin: `https://localhost:${port}`,
    forwardTo(p) {
      target = p
    },
  }
}
