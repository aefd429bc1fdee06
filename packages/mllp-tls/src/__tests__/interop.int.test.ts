import { once } from "node:events";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createTempDir, describeWithPeers, freePort, runCommand, startPeer, type TempDir, makeTestPki, type TestPki } from "@node-mirth/test-peers";
import { Server as Hl7Server } from "node-hl7-server";
import { afterAll, beforeAll, expect, it } from "vitest";
import { parseHl7 } from "@node-mirth/hl7";
import { MllpListener, type MllpListenerOptions } from "../mllp-listener.js";
import { MllpSender } from "../mllp-sender.js";
import { ackHandler } from "./helpers.js";
import { adt } from "./adt-message.js";

const RECEIVER = join(import.meta.dirname, "..", "__fixtures__", "hl7_receiver.py");
const COUNT = 10;
const ids = Array.from({ length: COUNT }, (_, i) => `IOP${i + 1}`);

describeWithPeers(
  "interop with real MLLP peers (python3-hl7 mllp_send and asyncio MLLP server, socat, node-hl7-server)",
  ["mllp_send", "openssl", "socat", { pythonModule: "hl7.mllp" }],
  (peers) => {
    let dir: TempDir;
    let pki: TestPki;
    let messages: string;

    beforeAll(async () => {
      dir = await createTempDir("mllp-interop-");
      pki = await makeTestPki(dir.path, peers.bin.openssl);
      // --loose reads messages starting at "MSH|^~\&|" with \n between segments.
      messages = join(dir.path, "messages.hl7");
      await writeFile(messages, ids.map((id) => adt(id).replaceAll("\r", "\n")).join(""));
    });
    afterAll(() => dir?.remove());

    const recordingListener = (options: Partial<MllpListenerOptions> = {}) => {
      const handled: string[] = [];
      const listener = new MllpListener({
        ...options,
        onMessage: (message, info) => {
          handled.push(`${parseHl7(message).controlId ?? "?"}@${info.transport}`);
          return ackHandler(message);
        },
      });
      return { listener, handled };
    };

    const mllpSend = (port: number) =>
      runCommand(peers.bin.mllp_send!, ["--loose", "--file", messages, "--port", String(port), "127.0.0.1"], { timeoutMs: 30_000 });

    const acksIn = (stdout: Buffer) => [...stdout.toString("latin1").matchAll(/MSA\|AA\|(IOP\d+)/g)].map((m) => m[1]);

    it("mllp_send delivers a file of messages to our listener; every one is handled and ACKed", async () => {
      const { listener, handled } = recordingListener();
      await using _ = listener;
      const { port } = await listener.start();
      const result = await mllpSend(port);
      expect(result.code, result.stderr.toString()).toBe(0);
      expect(handled).toEqual(ids.map((id) => `${id}@MLLP`));
      expect(acksIn(result.stdout)).toEqual(ids);
    });

    it("mllp_send behind socat as a TLS client with a client certificate reaches our mTLS listener", async () => {
      const { listener, handled } = recordingListener({
        tls: { enabled: true, keyStorePath: pki.serverKey, certStorePath: pki.serverCert, trustStorePath: pki.caCert, requireClientCert: true },
      });
      await using _ = listener;
      const { port: tlsPort } = await listener.start();
      await using socat = await startPeer({
        command: "socat",
        args: ({ host, port }) => [
          `TCP-LISTEN:${port},bind=${host},reuseaddr,fork`,
          `OPENSSL:127.0.0.1:${tlsPort},cafile=${pki.caCert},cert=${pki.clientCert},key=${pki.clientKey},commonname=localhost`,
        ],
      });
      const result = await mllpSend(socat.port);
      expect(result.code, result.stderr.toString() + socat.output()).toBe(0);
      expect(handled).toEqual(ids.map((id) => `${id}@MLLPS`));
      expect(acksIn(result.stdout)).toEqual(ids);
    });

    const pythonReceiver = (tls: string[]) =>
      startPeer({
        command: peers.python["hl7.mllp"]!,
        args: ({ port }) => [RECEIVER, String(port), ...tls],
        ready: { kind: "output", pattern: /READY/ },
      });

    it("our sender delivers to an MLLP receiver written with python3-hl7's asyncio API", async () => {
      await using receiver = await pythonReceiver([]);
      await using sender = new MllpSender({ host: "127.0.0.1", port: receiver.port });
      for (const id of ids) expect(await sender.send(adt(id))).toMatchObject({ outcome: "accepted", ackCode: "AA" });
      // The peer prints before it answers, but its stdout pipe may be read after our socket.
      const printed = () => [...receiver.output().matchAll(/RECEIVED (\S+)/g)].map((m) => m[1]);
      await expect.poll(printed, { timeout: 5_000 }).toEqual(ids);
    });

    it("our sender delivers over mTLS to the python3-hl7 receiver (ssl context requiring client certificates)", async () => {
      await using receiver = await pythonReceiver([pki.serverCert, pki.serverKey, pki.caCert]);
      await using sender = new MllpSender({
        host: "localhost",
        port: receiver.port,
        tls: { enabled: true, trustStorePath: pki.caCert, keyStorePath: pki.clientKey, certStorePath: pki.clientCert },
      });
      expect(sender.transport).toBe("MLLPS");
      for (const id of ids.slice(0, 3)) expect((await sender.send(adt(id))).outcome).toBe("accepted");
      await using noCert = new MllpSender({ host: "localhost", port: receiver.port, tls: { enabled: true, trustStorePath: pki.caCert } });
      await expect(noCert.send(adt("NOCERT"))).rejects.toMatchObject({ code: expect.stringMatching(/ERR_MLLP_CONNECT_FAILED|ERR_MLLP_CONNECTION_CLOSED/) });
      expect(receiver.output()).not.toContain("NOCERT");
    });

    it("our sender delivers to node-hl7-server", async () => {
      const port = await freePort("127.0.0.1");
      const server = new Hl7Server({ bindAddress: "127.0.0.1" });
      const received: string[] = [];
      const inbound = server.createInbound({ port }, (req, res) => {
        received.push(String(req.getMessage().get("MSH.10").toString()));
        void res.sendResponse("AA");
      });
      try {
        await once(inbound, "listen");
        // node-hl7-server 2.5.0 keeps already-handled bytes in its connection buffer: the second
        // message on one connection makes it handle (and ACK) the first again. Our MSA-2 check
        // catches that (ERR_MLLP_CONTROL_ID_MISMATCH), so talk to it one connection per message.
        await using sender = new MllpSender({ host: "127.0.0.1", port, keepConnectionOpen: false });
        for (const id of ids.slice(0, 5)) expect(await sender.send(adt(id))).toMatchObject({ outcome: "accepted", ackCode: "AA" });
        expect(received).toEqual(ids.slice(0, 5));
      } finally {
        await inbound.close();
      }
    });
  },
);
