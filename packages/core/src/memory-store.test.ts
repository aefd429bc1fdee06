import { describeMessageStoreContract } from "./message-store-contract.js";
import { MemoryStore } from "./memory-store.js";

describeMessageStoreContract("MemoryStore", () => {
  const store = new MemoryStore();
  return Promise.resolve({ store, dispose: () => store.close() });
});
