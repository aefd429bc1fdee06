import { once } from "node:events";
import { createServer, type AddressInfo, type Socket } from "node:net";
import { EgressPolicy } from "@node-mirth/core";
import { buildAck, parseHl7 } from "@node-mirth/hl7";
import { describe, expect, it } from "vitest";
import { ackHandler, mllpFrame } from "./__tests__/helpers.js";
import { adt } from "./__tests__/adt-message.js";
import { MllpListener, type MllpMessageInfo } from "./mllp-listener.js";
import { MllpSender } from "./mllp-sender.js";

/** Answers with the outcome named in PID-3.1's prefix: "AE..." -> AE, "AR..." -> AR, else AA. */
function outcomeHandler(message: Buffer): Promise<string> {
  const parsed = parseHl7(message);
  const id = parsed.controlId ?? "";
  const outcome = id.startsWith("AE") ? "error" : id.startsWith("AR") ? "reject" : "accept";
  return Promise.resolve(buildAck(parsed, { outcome, text: `outcome ${outcome}` })!.toString());
}

/** A bare TCP server whose answer to each frame the test chooses. */
async function scriptedServer(answer: (socket: Socket) => void): Promise<{ port: number } & AsyncDisposable> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.once("data", () => answer(socket));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    port: (server.address() as AddressInfo).port,
    [Symbol.asyncDispose]: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe("MllpSender", () => {
  it("reports AA, AE and AR as accepted, error and rejected, with the response", async () => {
    await using listener = new MllpListener({ onMessage: outcomeHandler });
    const { port } = await listener.start();
    await using sender = new MllpSender({ host: "127.0.0.1", port });
    const accepted = await sender.send(adt("OK1"));
    expect(accepted).toMatchObject({ outcome: "accepted", ackCode: "AA", ackText: "outcome accept" });
    expect(parseHl7(accepted.response!).get("MSA.2")).toBe("OK1");
    expect(await sender.send(adt("AE1"))).toMatchObject({ outcome: "error", ackCode: "AE" });
    expect(await sender.send(adt("AR1"))).toMatchObject({ outcome: "rejected", ackCode: "AR" });
  });

  it("keeps one connection open, or opens one per message", async () => {
    const connections: number[] = [];
    await using listener = new MllpListener({
      onMessage: (message, info: MllpMessageInfo) => {
        connections.push(info.connectionId);
        return ackHandler(message);
      },
    });
    const { port } = await listener.start();
    await using kept = new MllpSender({ host: "127.0.0.1", port });
    for (const id of ["K1", "K2", "K3"]) await kept.send(adt(id));
    await using perMessage = new MllpSender({ host: "127.0.0.1", port, keepConnectionOpen: false });
    for (const id of ["P1", "P2"]) await perMessage.send(adt(id));
    expect(connections).toEqual([1, 1, 1, 2, 3]);
    expect(perMessage.connected).toBe(false);
  });

  it("sends concurrent calls one after another, in call order", async () => {
    const order: string[] = [];
    await using listener = new MllpListener({
      onMessage: (message) => {
        order.push(parseHl7(message).controlId!);
        return ackHandler(message);
      },
    });
    const { port } = await listener.start();
    await using sender = new MllpSender({ host: "127.0.0.1", port });
    const ids = ["C1", "C2", "C3", "C4"];
    const results = await Promise.all(ids.map((id) => sender.send(adt(id))));
    expect(order).toEqual(ids);
    expect(results.map((r) => parseHl7(r.response!).get("MSA.2"))).toEqual(ids);
  });

  it("reconnects after the receiver dropped the connection", async () => {
    await using listener = new MllpListener({ onMessage: ackHandler, idleTimeoutMs: 100 });
    const { port } = await listener.start();
    await using sender = new MllpSender({ host: "127.0.0.1", port });
    await sender.send(adt("R1"));
    await new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (!sender.connected) {
          clearInterval(check);
          resolve();
        }
      }, 20);
    });
    expect((await sender.send(adt("R2"))).outcome).toBe("accepted");
  });

  it("refuses an ACK for another message (MSA-2), unless the check is off", async () => {
    const wrongAck = (message: Buffer) =>
      Promise.resolve(buildAck(parseHl7(message.toString("latin1").replace(/\|X1\|/, "|OTHER|")), { outcome: "accept" })!.toString());
    await using listener = new MllpListener({ onMessage: wrongAck });
    const { port } = await listener.start();
    await using checked = new MllpSender({ host: "127.0.0.1", port });
    await expect(checked.send(adt("X1"))).rejects.toMatchObject({ code: "ERR_MLLP_CONTROL_ID_MISMATCH" });
    expect(checked.connected).toBe(false);
    await using unchecked = new MllpSender({ host: "127.0.0.1", port, checkControlId: false });
    expect((await unchecked.send(adt("X1"))).outcome).toBe("accepted");
  });

  it("names a non-HL7 answer, an HL7 answer that is no ACK, a silent peer and a hang-up", async () => {
    await using notHl7 = await scriptedServer((s) => s.write(mllpFrame("OK thanks")));
    await expect(new MllpSender({ host: "127.0.0.1", port: notHl7.port }).send(adt("N1"))).rejects.toMatchObject({
      code: "ERR_MLLP_INVALID_RESPONSE",
      message: expect.stringContaining("not an HL7 v2 message"),
    });
    await using noMsa = await scriptedServer((s) => s.write(mllpFrame(adt("N2"))));
    await expect(new MllpSender({ host: "127.0.0.1", port: noMsa.port }).send(adt("N2"))).rejects.toMatchObject({
      code: "ERR_MLLP_INVALID_RESPONSE",
      message: expect.stringContaining("MSA-1 is missing"),
    });
    await using silent = await scriptedServer(() => {});
    await expect(new MllpSender({ host: "127.0.0.1", port: silent.port, responseTimeoutMs: 150 }).send(adt("N3"))).rejects.toMatchObject({
      code: "ERR_MLLP_RESPONSE_TIMEOUT",
    });
    await using hangUp = await scriptedServer((s) => s.destroy());
    await expect(new MllpSender({ host: "127.0.0.1", port: hangUp.port }).send(adt("N4"))).rejects.toMatchObject({
      code: "ERR_MLLP_CONNECTION_CLOSED",
    });
  });

  it("returns any response as is when ACK validation is off", async () => {
    await using server = await scriptedServer((s) => s.write(mllpFrame("OK thanks")));
    await using sender = new MllpSender({ host: "127.0.0.1", port: server.port, validateAck: false });
    const result = await sender.send("anything");
    expect(result.outcome).toBe("accepted");
    expect(result.response?.toString()).toBe("OK thanks");
  });

  it("fails to connect with ERR_MLLP_CONNECT_FAILED", async () => {
    await using server = await scriptedServer(() => {});
    const closedPort = server.port;
    await server[Symbol.asyncDispose]();
    await using sender = new MllpSender({ host: "127.0.0.1", port: closedPort });
    await expect(sender.send(adt("F1"))).rejects.toMatchObject({ code: "ERR_MLLP_CONNECT_FAILED" });
  });

  it("checks egress at connect and connects to the vetted address", async () => {
    await using listener = new MllpListener({ onMessage: ackHandler });
    const { port } = await listener.start();
    const lookups: string[] = [];
    const allowed = new EgressPolicy(
      { allowed_mllp: ["127.0.0.1"] },
      {
        lookup: (host) => {
          lookups.push(host);
          return Promise.resolve([{ address: "127.0.0.1", family: 4 }]);
        },
      },
    );
    await using viaName = new MllpSender({ host: "hl7.hospital.example", port, egress: allowed });
    expect((await viaName.send(adt("E1"))).outcome).toBe("accepted");
    expect(lookups).toEqual(["hl7.hospital.example"]);
    const denied = new EgressPolicy({ allowed_mllp: ["10.1.2.3"] });
    await using refused = new MllpSender({ host: "127.0.0.1", port, egress: denied });
    await expect(refused.send(adt("E2"))).rejects.toMatchObject({ code: "ERR_POLICY_EGRESS_DENIED" });
  });

  it("fails waiting and later sends with ERR_MLLP_SENDER_CLOSED on close()", async () => {
    let received: () => void = () => {};
    const arrived = new Promise<void>((resolve) => (received = resolve));
    await using server = await scriptedServer(() => received());
    const sender = new MllpSender({ host: "127.0.0.1", port: server.port });
    const inFlight = sender.send(adt("Z1"));
    const waiting = sender.send(adt("Z2"));
    await arrived;
    await sender.close();
    await expect(inFlight).rejects.toMatchObject({ code: "ERR_MLLP_SENDER_CLOSED" });
    await expect(waiting).rejects.toMatchObject({ code: "ERR_MLLP_SENDER_CLOSED" });
    await expect(sender.send(adt("Z3"))).rejects.toMatchObject({ code: "ERR_MLLP_SENDER_CLOSED" });
  });

  it("encodes string messages as UTF-8 by default, or as configured", async () => {
    const received: Buffer[] = [];
    await using listener = new MllpListener({
      onMessage: (message) => {
        received.push(message);
        return ackHandler(message);
      },
    });
    const { port } = await listener.start();
    const message = adt("U1").replace("DOE^JANE", "MÜLLER^RENÉ");
    await using utf8 = new MllpSender({ host: "127.0.0.1", port });
    await utf8.send(message);
    await using latin1 = new MllpSender({ host: "127.0.0.1", port, encoding: "latin1" });
    await latin1.send(message);
    expect(received[0]!.toString("utf8")).toBe(message);
    expect(received[1]!.toString("latin1")).toBe(message);
  });

  it("RAW: the response ends after the idle gap, or when the receiver closes", async () => {
    await using listener = new MllpListener({ onMessage: (m) => Promise.resolve(`echo ${m.toString()}`), framing: { mode: "RAW" }, rawIdleGapMs: 50 });
    const { port } = await listener.start();
    await using sender = new MllpSender({ host: "127.0.0.1", port, framing: { mode: "RAW" }, validateAck: false, rawIdleGapMs: 50 });
    expect(sender.transport).toBe("TCP");
    expect((await sender.send("one")).response?.toString()).toBe("echo one");
    expect((await sender.send("two")).response?.toString()).toBe("echo two");
    await using closing = await scriptedServer((socket) => socket.end("bye"));
    await using once = new MllpSender({ host: "127.0.0.1", port: closing.port, framing: { mode: "RAW" }, validateAck: false, rawIdleGapMs: 10_000 });
    expect((await once.send("hi")).response?.toString()).toBe("bye");
  });

  it("refuses bad options", () => {
    expect(() => new MllpSender({ host: "", port: 1 })).toThrow(expect.objectContaining({ code: "ERR_MLLP_INVALID_OPTIONS" }));
    expect(() => new MllpSender({ host: "h", port: 70000 })).toThrow(expect.objectContaining({ code: "ERR_MLLP_INVALID_OPTIONS" }));
  });
});
