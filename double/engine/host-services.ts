// Services from the host (`Host.service`, and the CLI's `--flag=tcp://host:port` for a Service
// argument): the engine tunnels each to the containers and modules of the session. Here a
// module runs on the host, so a tunnel is a TCP proxy on a fresh loopback port, and
// `endpoint()` names that port, never the backend's: code that assumes the backend's port,
// or skips `start()`/`endpoint()`, fails here as it would behind the engine's tunnel.
import { createServer, connect, type Server, type Socket } from "node:net";
import type { ServicePort } from "./values.js";

interface Tunnel {
  servers: Server[];
  /** Backend port -> the loopback port that forwards to it. */
  frontends: Map<number, number>;
  sockets: Set<Socket>;
}

function listen(host: string, backend: number, sockets: Set<Socket>): Promise<{ server: Server; port: number }> {
  return new Promise((resolveListen, reject) => {
    // Half-open both ways, so a client that ends its side still gets the reply.
    const server = createServer({ allowHalfOpen: true }, (client) => {
      const upstream = connect({ port: backend, host, allowHalfOpen: true });
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on("close", () => sockets.delete(s));
        s.on("error", () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      if (!address || typeof address === "string") return reject(new Error("engine double: a service tunnel has no port"));
      resolveListen({ server, port: address.port });
    });
  });
}

export class HostServices {
  private tunnels = new Map<string, Promise<Tunnel>>();

  private key(host: string, ports: ServicePort[]): string {
    return JSON.stringify([host, ports]);
  }

  /** Starts the service's tunnel (once per service in this engine) and returns it. */
  start(host: string, ports: ServicePort[]): Promise<Tunnel> {
    if (!ports.length) throw new Error("engine double: Host.service needs at least one port");
    for (const p of ports) if (p.protocol !== "TCP") throw new Error(`engine double: ${p.protocol} service ports are not implemented`);
    const key = this.key(host, ports);
    let tunnel = this.tunnels.get(key);
    if (!tunnel) {
      tunnel = (async () => {
        const sockets = new Set<Socket>();
        const frontends = new Map<number, number>();
        const servers: Server[] = [];
        for (const p of ports) {
          const l = await listen(host, p.backend, sockets);
          servers.push(l.server);
          frontends.set(p.backend, l.port);
        }
        return { servers, frontends, sockets };
      })();
      this.tunnels.set(key, tunnel);
      tunnel.catch(() => this.tunnels.delete(key));
    }
    return tunnel;
  }

  /** `Service.endpoint`: the address of the tunnel's port for `port` (default: the first), with `scheme://` when given. */
  async endpoint(host: string, ports: ServicePort[], port: number | undefined, scheme: string | undefined): Promise<string> {
    const tunnel = await this.start(host, ports);
    const backend = port ?? ports[0]!.backend;
    const frontend = tunnel.frontends.get(backend);
    if (frontend === undefined) throw new Error(`engine double: the service has no port ${backend} (ports: ${ports.map((p) => p.backend).join(", ")})`);
    const address = `127.0.0.1:${frontend}`;
    return scheme ? `${scheme}://${address}` : address;
  }

  async stop(host: string, ports: ServicePort[]): Promise<void> {
    const key = this.key(host, ports);
    const tunnel = this.tunnels.get(key);
    this.tunnels.delete(key);
    if (tunnel) await close(await tunnel);
  }

  async closeAll(): Promise<void> {
    const all = [...this.tunnels.values()];
    this.tunnels.clear();
    await Promise.all(all.map(async (t) => close(await t.catch(() => undefined))));
  }
}

async function close(t: Tunnel | undefined): Promise<void> {
  if (!t) return;
  for (const s of t.sockets) s.destroy();
  await Promise.all(t.servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
}
