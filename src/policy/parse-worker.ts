/**
 * The worker side of parseOffThread (parse-off-thread.ts): reads one policy file with the same
 * parsePolicyLayer the main thread uses, so the answer is the same layer or the same problems.
 * It says when its modules are loaded, then parses the one text it is sent and answers.
 */
import { parentPort } from "node:worker_threads";
import { CONTROLS } from "../controls/index.js";
import { PolicyError } from "../errors.js";
import { parsePolicyLayer, type LayerOptions } from "./parse.js";
import type { PolicyLayer } from "./types.js";

export interface ParseRequest {
  text: string;
  file: string;
  options: LayerOptions;
}

export type ParseAnswer = { layer: PolicyLayer } | { problems: PolicyError["problems"] } | { failed: string };

/** Problems are posted in parts (then an empty `problems`): the main thread reads each between other work. */
export type ParseMessage = "ready" | ParseAnswer | { problemsPart: PolicyError["problems"] };

/** Problems per part: a 1 MiB file of unknown keys has about 22,000; 1,000 are read in a few milliseconds. */
const PROBLEMS_PER_PART = 1_000;

const port = parentPort;
if (port) {
  port.once("message", (request: ParseRequest) => {
    let answer: ParseAnswer;
    try {
      answer = { layer: parsePolicyLayer(request.text, request.file, CONTROLS, request.options) };
    } catch (error) {
      answer =
        error instanceof PolicyError
          ? { problems: error.problems }
          : { failed: error instanceof Error ? (error.stack ?? error.message) : String(error) };
    }
    if ("problems" in answer) {
      const { problems } = answer;
      for (let start = 0; start < problems.length; start += PROBLEMS_PER_PART) {
        port.postMessage({
          problemsPart: problems.slice(start, start + PROBLEMS_PER_PART),
        } satisfies ParseMessage);
      }
      answer = { problems: [] };
    }
    port.postMessage(answer);
  });
  port.postMessage("ready");
}
