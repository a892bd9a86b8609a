export * from "./known.js";
export * from "./organization.js";
export * from "./repository.js";
export * from "./change-request.js";
export * from "./snapshot.js";
export * from "./access-review.js";
