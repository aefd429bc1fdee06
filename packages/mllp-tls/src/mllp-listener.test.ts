import { once } from "node:events";
import { connect } from "node:net";
import { Socket } from "node:net";
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { adt } from "./__tests__/adt-message.js";
import { ackHandler, collectingLog, frameClient, mllpFrame, msa } from "./__tests__/helpers.js";
import { MllpListener } from "./mllp-listener.js";
import { transportName } from "./transport.js";

describe("MllpListener", () => {
  it("answers each message with the handler's ACK and reports where it came from", async () => {
    const seen: unknown[] = [];
    await using listener = new MllpListener({
      onMessage: async (message, info) => {
        seen.push(info);
        return ackHandler(message);
      },
    });
    const { port, address } = await listener.start();
    expect(address).toBe("127.0.0.1");
    expect(listener.transport).toBe("MLLP");
    await using client = await frameClient(port);
    client.socket.write(mllpFrame(adt("C1")));
    expect(msa(await client.next())).toEqual(["AA", "C1"]);
    expect(seen[0]).toMatchObject({ remoteAddress: "127.0.0.1", localPort: port, transport: "MLLP", connectionId: 1 });
  });

  it("answers 5 messages sent in one TCP write, in order, one at a time", async () => {
    let running = 0;
    let most = 0;
    await using listener = new MllpListener({
      onMessage: async (message) => {
        most = Math.max(most, ++running);
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 10));
        running--;
        return ackHandler(message);
      },
    });
    const { port } = await listener.start();
    await using client = await frameClient(port);
    const ids = ["M1", "M2", "M3", "M4", "M5"];
    client.socket.write(Buffer.concat(ids.map((id) => mllpFrame(adt(id)))));
    const answers = [];
    for (const _ of ids) answers.push(msa(await client.next())[1]);
    expect(answers).toEqual(ids);
    expect(most).toBe(1);
  });

  it("pauses reading while a slow handler has maxQueuedFrames waiting, and loses none", async () => {
    await using listener = new MllpListener({
      onMessage: async (message) => {
        await new Promise((resolve) => setImmediate(resolve));
        return ackHandler(message);
      },
      maxQueuedFrames: 2,
    });
    const { port } = await listener.start();
    await using client = await frameClient(port);
    const ids = Array.from({ length: 40 }, (_, i) => `Q${i}`);
    client.socket.write(Buffer.concat(ids.map((id) => mllpFrame(adt(id)))));
    const answers = [];
    for (const _ of ids) answers.push(msa(await client.next())[1]);
    expect(answers).toEqual(ids);
  });

  it("survives random bytes on its connections and still serves the next one", async () => {
    await using listener = new MllpListener({ onMessage: ackHandler, framing: { maxFrameBytes: 512 } });
    const { port } = await listener.start();
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 700 }), { maxLength: 5 }), async (writes) => {
        await using noisy = await frameClient(port);
        for (const bytes of writes) noisy.socket.write(bytes);
        await using client = await frameClient(port);
        client.socket.write(mllpFrame(adt("AFTER")));
        expect(msa(await client.next())).toEqual(["AA", "AFTER"]);
      }),
      { numRuns: 25 },
    );
  });

  it("discards garbage before the start block and still answers the message", async () => {
    const { log, waitFor } = collectingLog();
    await using listener = new MllpListener({ onMessage: ackHandler, log });
    const { port } = await listener.start();
    await using client = await frameClient(port);
    client.socket.write(Buffer.concat([Buffer.from("GET / HTTP/1.1\r\n\r\n"), mllpFrame(adt("G1"))]));
    expect(msa(await client.next())).toEqual(["AA", "G1"]);
    await waitFor(/18 bytes before a start block discarded/);
  });

  it("answers bytes that are not HL7 with AR (the handler decides, nothing is dropped)", async () => {
    await using listener = new MllpListener({ onMessage: ackHandler });
    const { port } = await listener.start();
    await using client = await frameClient(port);
    client.socket.write(mllpFrame("this is not HL7"));
    expect(msa(await client.next())[0]).toBe("AR");
  });

  it("closes a connection whose frame exceeds maxFrameBytes; another connection is still served", async () => {
    const { log, waitFor } = collectingLog();
    await using listener = new MllpListener({ onMessage: ackHandler, framing: { maxFrameBytes: 1024 }, log });
    const { port } = await listener.start();
    await using good = await frameClient(port);
    await using bad = await frameClient(port);
    bad.socket.write(Buffer.concat([Buffer.from([0x0b]), Buffer.alloc(4096, 0x41)]));
    await bad.closed;
    await waitFor(/ERR_MLLP_FRAME_TOO_LARGE/);
    good.socket.write(mllpFrame(adt("OK1")));
    expect(msa(await good.next())).toEqual(["AA", "OK1"]);
  });

  it("closes a never-ending frame and a slow sender after readTimeoutMs", async () => {
    const { log, lines } = collectingLog();
    await using listener = new MllpListener({ onMessage: ackHandler, readTimeoutMs: 300, log });
    const { port } = await listener.start();
    await using stalled = await frameClient(port);
    await using slow = await frameClient(port);
    stalled.socket.write(Buffer.from([0x0b, 0x4d, 0x53, 0x48]));
    slow.socket.write(Buffer.from([0x0b]));
    const trickle = setInterval(() => slow.socket.write("A"), 40);
    const started = Date.now();
    try {
      await Promise.all([stalled.closed, slow.closed]);
    } finally {
      clearInterval(trickle);
    }
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(lines.filter((line) => line.includes("ERR_MLLP_IDLE_TIMEOUT"))).toHaveLength(2);
  });

  it("turns on TCP keep-alive for half-open peers and closes a silent connection after idleTimeoutMs", async () => {
    const { log, waitFor } = collectingLog();
    const keepAlive = vi.spyOn(Socket.prototype, "setKeepAlive");
    await using listener = new MllpListener({ onMessage: ackHandler, idleTimeoutMs: 200, keepAliveInitialDelayMs: 5_000, log });
    const { port } = await listener.start();
    await using client = await frameClient(port);
    await expect.poll(() => keepAlive.mock.calls.some(([enable, delay]) => enable === true && delay === 5_000)).toBe(true);
    keepAlive.mockRestore();
    client.socket.write(mllpFrame(adt("I1")));
    await client.next();
    await client.closed;
    await waitFor(/ERR_MLLP_IDLE_TIMEOUT: .*sent nothing/);
  });

  it("refuses connections beyond the listener cap and the per-address cap", async () => {
    const { log, lines } = collectingLog();
    await using listener = new MllpListener({ onMessage: ackHandler, maxConnections: 3, log });
    const { port } = await listener.start();
    const admitted = [];
    try {
      for (let i = 0; i < 3; i++) {
        const client = await frameClient(port);
        admitted.push(client);
        client.socket.write(mllpFrame(adt(`F${i}`)));
        expect(msa(await client.next())).toEqual(["AA", `F${i}`]);
      }
      await using fourth = await frameClient(port);
      await using fifth = await frameClient(port);
      await Promise.all([fourth.closed, fifth.closed]);
      expect(lines.filter((line) => line.includes("ERR_MLLP_CONNECTION_LIMIT"))).toHaveLength(2);
      admitted[0]!.socket.write(mllpFrame(adt("F9")));
      expect(msa(await admitted[0]!.next())).toEqual(["AA", "F9"]);
    } finally {
      await Promise.all(admitted.map((c) => c[Symbol.asyncDispose]()));
    }

    await using perAddress = new MllpListener({ onMessage: ackHandler, maxConnectionsPerAddress: 1 });
    const second = await perAddress.start();
    await using first = await frameClient(second.port);
    await using refused = await frameClient(second.port);
    await refused.closed;
    first.socket.write(mllpFrame(adt("P1")));
    expect(msa(await first.next())).toEqual(["AA", "P1"]);
  });

  it("closes the connection unanswered when the handler throws", async () => {
    const { log, waitFor } = collectingLog();
    await using listener = new MllpListener({ onMessage: () => Promise.reject(new Error("store down")), log });
    const { port } = await listener.start();
    await using client = await frameClient(port);
    client.socket.write(mllpFrame(adt("H1")));
    await client.closed;
    await waitFor(/ERR_MLLP_HANDLER_FAILED/);
  });

  it("refuses a non-loopback bind without TLS", async () => {
    const listener = new MllpListener({ onMessage: ackHandler, host: "0.0.0.0" });
    await expect(listener.start()).rejects.toMatchObject({ code: "ERR_POLICY_INSECURE_BIND" });
    expect(listener.listening).toBe(false);
  });

  it("stop() lets the message in flight be answered, then closes everything", async () => {
    let release: () => void = () => {};
    const handled = new Promise<void>((resolve) => (release = resolve));
    let entered: () => void = () => {};
    const inHandler = new Promise<void>((resolve) => (entered = resolve));
    const listener = new MllpListener({
      onMessage: async (message) => {
        entered();
        await handled;
        return ackHandler(message);
      },
    });
    const { port } = await listener.start();
    await using client = await frameClient(port);
    client.socket.write(mllpFrame(adt("S1")));
    await inHandler;
    const stopped = listener.stop();
    setTimeout(release, 50);
    expect(msa(await client.next())).toEqual(["AA", "S1"]);
    await stopped;
    await client.closed;
    expect(listener.listening).toBe(false);
  });

  it("stop() finishes by its deadline even when a handler never returns", async () => {
    let entered: () => void = () => {};
    const inHandler = new Promise<void>((resolve) => (entered = resolve));
    const listener = new MllpListener({
      onMessage: () => {
        entered();
        return new Promise(() => {});
      },
      stopTimeoutMs: 200,
    });
    const { port } = await listener.start();
    await using client = await frameClient(port);
    client.socket.write(mllpFrame(adt("S2")));
    await inHandler;
    const started = Date.now();
    await listener.stop();
    await client.closed;
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("RAW: a message ends when the peer half-closes, and the answer still goes out", async () => {
    await using listener = new MllpListener({ onMessage: (m) => Promise.resolve(`got ${m.length}`), framing: { mode: "RAW" } });
    const { port } = await listener.start();
    expect(listener.transport).toBe("TCP");
    const socket = connect({ host: "127.0.0.1", port });
    await once(socket, "connect");
    const chunks: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.end("hello raw");
    await once(socket, "close");
    expect(Buffer.concat(chunks).toString()).toBe("got 9");
  });

  it("RAW: a message ends after the idle gap", async () => {
    await using listener = new MllpListener({ onMessage: (m) => Promise.resolve(`[${m.toString()}]`), framing: { mode: "RAW" }, rawIdleGapMs: 100 });
    const { port } = await listener.start();
    const socket = connect({ host: "127.0.0.1", port });
    try {
      await once(socket, "connect");
      socket.write("part1 ");
      socket.write("part2");
      const [answer] = (await once(socket, "data")) as [Buffer];
      expect(answer.toString()).toBe("[part1 part2]");
    } finally {
      socket.destroy();
    }
  });

  it("names its transport", () => {
    expect([transportName("MLLP", true), transportName("RAW", true), transportName("FRAME", false), transportName("MLLP", false)]).toEqual([
      "MLLPS",
      "TCP+TLS",
      "TCP",
      "MLLP",
    ]);
  });
});
