// Test helper: a TCP proxy in front of the real broker that a test can close and reopen, so
// "Kafka unreachable" is played for real (refused connections, cut sockets) without stopping
// the broker other engineers' tests share.
import net from 'node:net';
import tls from 'node:tls';
import type { ISocketFactory } from 'kafkajs';

export class TcpProxy {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async open(): Promise<void> {
    const server = net.createServer((client) => {
      const upstream = net.connect(this.targetPort, this.targetHost);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as net.AddressInfo).port;
    this.server = server;
  }

  /**
   * A KafkaJS socket factory that reaches every broker through this proxy (brokers advertise their
   * own address, which would bypass it): `{ ...connection, socketFactory: proxy.socketFactory() }`.
   */
  socketFactory(): ISocketFactory {
    return ({ ssl, onConnect }) => {
      if (!ssl) return net.connect({ host: '127.0.0.1', port: this.port }, onConnect);
      const options = typeof ssl === 'object' && ssl !== null ? ssl : {};
      return tls.connect({ ...options, host: '127.0.0.1', port: this.port }, onConnect);
    };
  }

  /** Stops listening (new connections are refused) and cuts every open connection. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
