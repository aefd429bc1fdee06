"""An MLLP receiver written with python3-hl7's asyncio API: our sender's interop peer.

Usage: hl7_receiver.py PORT [CERT KEY [CA]]  (CERT/KEY: TLS; CA: require client certificates)
Prints READY once listening and RECEIVED <MSH-10> per message; answers each with create_ack().
"""
import asyncio
import ssl
import sys

import hl7.mllp


async def handle(reader, writer):
    try:
        while not writer.is_closing():
            message = await reader.readmessage()
            print("RECEIVED", message.segment("MSH")[10], flush=True)
            writer.writemessage(message.create_ack())
            await writer.drain()
    except asyncio.IncompleteReadError:
        pass
    finally:
        if not writer.is_closing():
            writer.close()


async def main():
    port = int(sys.argv[1])
    context = None
    if len(sys.argv) >= 4:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(sys.argv[2], sys.argv[3])
        if len(sys.argv) >= 5:
            context.load_verify_locations(sys.argv[4])
            context.verify_mode = ssl.CERT_REQUIRED
    server = await hl7.mllp.start_hl7_server(handle, host="127.0.0.1", port=port, ssl=context)
    print("READY", flush=True)
    async with server:
        await server.serve_forever()


asyncio.run(main())
