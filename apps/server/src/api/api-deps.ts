import type { Engine, MessageStore } from "@node-mirth/core";
import type { Logger } from "pino";
import type { AuditLog } from "../audit/audit-types.js";
import type { AuthService } from "../auth/auth-types.js";
import type { ChannelRepository } from "./channel-repository.js";

export interface ApiDeps {
  engine: Engine;
  store: MessageStore;
  /** `authenticate` runs before every non-public route; `handlers` answer the user routes. */
  auth: Pick<AuthService, "authenticate" | "handlers">;
  audit: AuditLog;
  channelRepository: ChannelRepository;
  serverInfo: { version: string; startedAt: number };
  logger: Logger;
}
