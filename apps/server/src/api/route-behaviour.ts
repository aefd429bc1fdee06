import type { ApiRoute } from "./api-route.js";

/** A route without its access rule: the handler files give these, the route table adds the rule. */
export type RouteBehaviour = Omit<ApiRoute, "roles" | "audit">;
