#!/usr/bin/env node
import { text } from "node:stream/consumers";
import { promptSecret } from "./prompt-secret.js";
import { runCertsCli } from "./run-certs-cli.js";
import { runMirthCli } from "./run-mirth-cli.js";

process.exitCode = await runMirthCli(process.argv.slice(2), {
  stdout: (chunk) => process.stdout.write(chunk),
  stderr: (chunk) => process.stderr.write(chunk),
  env: process.env,
  readStdin: () => text(process.stdin),
  prompt: process.stdin.isTTY ? promptSecret : undefined,
  runCertsCli,
});
