export * from "./evaluate.js";
export * from "./types.js";
export * from "./as-of-merge.js";
