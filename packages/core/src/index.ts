export {
  CORE_ERROR_CODES,
  NodeMirthError,
  isNodeMirthError,
  type CoreErrorCode,
  type NodeMirthErrorOptions,
} from "./errors.js";
export {
  CONTENT_KINDS,
  MESSAGE_STATUSES,
  SOURCE_CONNECTOR_ID,
  UNFINISHED_STATUSES,
  type ConnectorMessageRecord,
  type ContentKind,
  type MessageDetail,
  type MessageQuery,
  type MessageStatus,
  type MessageStore,
  type MessageSummary,
  type PruneOptions,
  type PruneResult,
  type StatisticsCounts,
  type StoreMetrics,
  type StoreWrite,
  type UnfinishedWork,
} from "./message-store.js";
export { MemoryStore } from "./memory-store.js";
export { SqliteStore, type SqliteStoreOptions } from "./sqlite-store.js";
export {
  assertBindAllowed,
  InsecureBindError,
  type BindDecision,
  type BindReason,
  type BindRequest,
} from "./bind-guard.js";
export {
  createEgressPolicy,
  EGRESS_KINDS,
  EgressDeniedError,
  EgressPolicy,
  egressConfigSchema,
  type ConfiguredDecision,
  type EgressConfig,
  type EgressConfigInput,
  type EgressDenial,
  type EgressDenialReason,
  type EgressKind,
  type EgressLookup,
  type EgressPolicyOptions,
  type ResolvedAddress,
  type VettedDestination,
} from "./egress-policy.js";
export { isLoopbackHost } from "./address-match.js";
export { flagProperty, wholeNumberProperty } from "./property-schemas.js";
export { DestinationClient, type ClosableClient } from "./destination-client.js";
export { listenerSource, type StartableListener } from "./listener-source.js";
export {
  formatTemplateDate,
  isMessageTimeVariable,
  MessageTemplateError,
  renderMessageTemplate,
  type MessageTemplateContext,
} from "./message-template.js";
export {
  resolveVariables,
  resolveVariablesDeep,
  UnsetVariableError,
  type ConfigurationMapLike,
  type ResolveVariablesDeepOptions,
  type ResolveVariablesOptions,
  type UnsetVariable,
} from "./resolve-variables.js";
export {
  assertSecureOrAllowed,
  emitPolicyWarning,
  INSECURE_TLS_ENV,
  InsecureTlsError,
  insecureTlsAllowed,
  resetInsecureTlsForTests,
  warnInsecureUse,
  type AssertSecureOptions,
  type PolicyWarning,
  type PolicyWarningHandler,
} from "./insecure-tls.js";
export {
  createScriptSandbox,
  SCRIPT_KINDS,
  type ScriptBindings,
  type ScriptDataType,
  type ScriptKind,
  type ScriptLogLevel,
  type ScriptMessage,
  type ScriptRoute,
  type ScriptRunFailure,
  type ScriptRunResult,
  type ScriptSandbox,
  type ScriptSandboxOptions,
  type ScriptSource,
} from "./script-sandbox.js";
export {
  ackPolicySchema,
  channelJsonSchema,
  channelSchema,
  connectorConfigSchema,
  dataTypeSchema,
  destinationSchema,
  filterRuleSchema,
  filterSchema,
  hl7PathSchema,
  mapperSourceSchema,
  metadataColumnSchema,
  queuePolicySchema,
  storageModeSchema,
  transformerSchema,
  transformerStepSchema,
  type AckPolicy,
  type Channel,
  type ChannelInput,
  type ConnectorConfig,
  type DataType,
  type Destination,
  type Filter,
  type FilterRule,
  type MapperSource,
  type MetadataColumn,
  type QueuePolicy,
  type StorageMode,
  type Transformer,
  type TransformerStep,
} from "./channel-schema.js";
export {
  defineConnector,
  type ConnectorEnvironment,
  type ConnectorPlugin,
  type ConnectorPolicy,
  type ConnectorResponse,
  type DestinationConnector,
  type DestinationContext,
  type DispatchResult,
  type LogLevel,
  type OutboundMessage,
  type RawMessage,
  type SourceConnector,
  type SourceContext,
  type SourceResponse,
} from "./define-connector.js";
export {
  createEngine,
  type ChannelStatus,
  type DeployIssue,
  type DeployReport,
  type Engine,
  type EngineOptions,
  type GlobalScripts,
} from "./create-engine.js";
export {
  channelConnector,
  channelConnectorPropertiesSchema,
  type MessageRouter,
} from "./channel-connector.js";
export { type ChannelState, type EngineEvent, type EngineEventListener } from "./engine-events.js";
export {
  GroupCommit,
  type GroupCommitMetrics,
  type GroupCommitOptions,
  type GroupCommitWriteOptions,
} from "./group-commit.js";
export { retryDelayMs } from "./destination-queue.js";
