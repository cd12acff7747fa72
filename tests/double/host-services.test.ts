// Services from the host reach a module through a tunnel of the engine's (here a loopback
// proxy): `start()` then `endpoint()` give an address that is not the backend's own.
import { createServer, connect, type Server } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEngineDouble, type EngineDouble } from "../../double/index.js";
import { HostServices } from "../../double/engine/host-services.js";
import { encodeId } from "../../double/engine/values.js";
import { tempStateDir, toyModule } from "./helpers/env.js";

let echo: Server;
let echoPort: number;

beforeAll(async () => {
  echo = createServer((s) => s.pipe(s));
  await new Promise<void>((r) => echo.listen(0, "127.0.0.1", () => r()));
  echoPort = (echo.address() as { port: number }).port;
});
afterAll(() => new Promise<void>((r) => echo.close(() => r())));

function roundTrip(address: string, text: string): Promise<string> {
  const [host, port] = address.replace(/^[a-z]+:\/\//, "").split(":");
  return new Promise((resolve, reject) => {
    const s = connect(Number(port), host, () => s.end(text));
    let got = "";
    s.on("data", (b) => (got += b.toString()));
    s.on("end", () => resolve(got));
    s.on("error", reject);
  });
}

describe("services from the host", () => {
  it("tunnels a TCP port: the endpoint is a loopback port of its own that forwards to the backend", async () => {
    const services = new HostServices();
    const ports = [{ frontend: echoPort, backend: echoPort, protocol: "TCP" as const }];
    const endpoint = await services.endpoint("127.0.0.1", ports, undefined, "redis");
    expect(endpoint).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
    expect(endpoint).not.toBe(`redis://127.0.0.1:${echoPort}`);
    expect(await roundTrip(endpoint, "ping")).toBe("ping");
    expect(await services.endpoint("127.0.0.1", ports, undefined, undefined)).toBe(endpoint.replace("redis://", ""));
    await services.stop("127.0.0.1", ports);
    await expect(roundTrip(endpoint, "ping")).rejects.toThrow(/ECONNREFUSED/);
    await services.closeAll();
  });

  it("refuses what it does not model: no ports, UDP, a port the service does not have", async () => {
    const services = new HostServices();
    expect(() => services.start("localhost", [])).toThrow(/at least one port/);
    expect(() => services.start("localhost", [{ frontend: 53, backend: 53, protocol: "UDP" }])).toThrow(/UDP service ports are not implemented/);
    await expect(services.endpoint("127.0.0.1", [{ frontend: echoPort, backend: echoPort, protocol: "TCP" }], 1, undefined)).rejects.toThrow(/has no port 1/);
    await services.closeAll();
  });

  describe("through the engine's API", () => {
    let double: EngineDouble;
    beforeAll(async () => {
      double = await startEngineDouble({ stateDir: tempStateDir("svc"), moduleDir: toyModule });
    });
    afterAll(() => double?.close());

    it("serves Service.start and Service.endpoint for a service loaded by ID", async () => {
      const id = encodeId({ t: "Service", host: "127.0.0.1", ports: [{ frontend: echoPort, backend: echoPort, protocol: "TCP" }] });
      const r = await double.query(`query($id: ID!) { node(id: $id) { ... on Service { start endpoint(scheme: "tcp") } } }`, { id });
      expect(r.errors).toBeUndefined();
      const node = (r.data as { node: { start: string; endpoint: string } }).node;
      expect(node.start).toBe(id);
      expect(await roundTrip(node.endpoint, "hello")).toBe("hello");
    });
  });
});
