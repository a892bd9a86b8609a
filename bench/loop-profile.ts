/**
 * What blocked the tool's event loop: V8's CPU profile of the process (node:inspector), its samples
 * laid over the blocked intervals loop-monitor.ts recorded, so each long block is named by the code
 * that ran through it. The profiler costs CPU: the benchmark only runs it when asked
 * (--check-profile), and reports the latency figures of a run without it.
 */
import { Session } from "node:inspector/promises";
import type { Interval } from "./loop-monitor.js";
import { wallNow } from "./loop-monitor.js";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface BlockAttribution extends Interval {
  ms: number;
  /** Profiler samples inside it (one a millisecond while the thread runs: fewer when it waited for a core). */
  samples: number;
  /** The deepest frame most of the block's samples ran under (where the block was entered). */
  at: string;
  /** The innermost frame of our code (src/, bench/) of each sample, heaviest first, with its share. */
  ours: string[];
  /** Where the samples were when taken (leaf frames), heaviest first, with the share of the block. */
  leaves: string[];
}

export interface BlockSummary {
  /** Blocks grouped by the frame they were entered at: count, total and longest, heaviest first. */
  byFrame: Array<{ at: string; blocks: number; totalMs: number; longestMs: number; samples: number }>;
  /**
   * Samples (about one per millisecond on a CPU) inside blocks, by the innermost frame of our code,
   * or by the leaf's library function when none of ours is on the stack: where the CPU went.
   */
  cpuByFrame: Array<{ frame: string; samples: number }>;
  /** The longest blocks, longest first. */
  longest: BlockAttribution[];
}

export interface CpuProfiler {
  /** Stops profiling and names the code that ran through each blocked interval of at least `minMs`. */
  attribute(blocked: readonly Interval[], minMs?: number): Promise<BlockSummary>;
}

export async function startCpuProfiler(): Promise<CpuProfiler> {
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.setSamplingInterval", { interval: 1000 });
  await session.post("Profiler.start");
  return {
    async attribute(blocked, minMs = 50) {
      const { profile } = (await session.post("Profiler.stop")) as { profile: Profile };
      // V8's profile clock is the monotonic clock process.hrtime reads: microseconds.
      const offsetMs = wallNow() - Number(process.hrtime.bigint() / 1000n) / 1000;
      session.disconnect();
      return attributeBlocks(profile, offsetMs, blocked, minMs);
    },
  };
}

function frameName(frame: CallFrame): string {
  const file = frame.url.replace(/^file:\/\//, "").replace(/^.*\/(src|bench|node_modules)\//, "$1/");
  const name = frame.functionName || "(anonymous)";
  return file ? `${name} (${file}:${frame.lineNumber + 1})` : name;
}

const OURS = /\/(src|bench)\//;
const META = new Set(["(root)", "(program)", "(idle)", "(garbage collector)"]);

export function attributeBlocks(
  profile: Profile,
  offsetMs: number,
  blocked: readonly Interval[],
  minMs: number,
): BlockSummary {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parents = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
  const stackOf = (id: number): ProfileNode[] => {
    const stack: ProfileNode[] = [];
    for (let at: number | undefined = id; at !== undefined; at = parents.get(at)) {
      const node = nodes.get(at);
      if (node) stack.unshift(node);
    }
    return stack;
  };
  const samples: Array<{ at: number; node: number }> = [];
  let time = profile.startTime;
  const ids = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < ids.length; i++) {
    time += deltas[i] ?? 0;
    samples.push({ at: time / 1000 + offsetMs, node: ids[i] ?? 0 });
  }
  const attributions: BlockAttribution[] = [];
  const cpu = new Map<string, number>();
  for (const block of blocked) {
    const ms = block.end - block.start;
    if (ms < minMs) continue;
    const inside = samples.filter((s) => s.at >= block.start && s.at < block.end);
    if (inside.length === 0) continue;
    const stacks = inside.map((s) => stackOf(s.node).filter((n) => !META.has(n.callFrame.functionName)));
    // The deepest frame at least 60% of the samples share, by position from the root.
    let at = "(no common frame)";
    for (let depth = 0; ; depth++) {
      const counts = new Map<string, number>();
      for (const stack of stacks) {
        const node = stack[depth];
        if (node) counts.set(frameName(node.callFrame), (counts.get(frameName(node.callFrame)) ?? 0) + 1);
      }
      const [name, count] = [...counts.entries()].sort((a, b) => b[1] - a[1])[0] ?? ["", 0];
      if (count < stacks.length * 0.6) break;
      at = name;
    }
    const share = (counts: Map<string, number>) =>
      [...counts.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 5)
        .map(([name, count]) => `${name} ${Math.round((100 * count) / stacks.length)}%`);
    const ours = new Map<string, number>();
    const leaves = new Map<string, number>();
    for (const stack of stacks) {
      const own = [...stack].reverse().find((node) => OURS.test(node.callFrame.url));
      const ownName = own ? frameName(own.callFrame) : "(no frame of ours)";
      ours.set(ownName, (ours.get(ownName) ?? 0) + 1);
      const leaf = stack[stack.length - 1];
      const leafName = leaf ? frameName(leaf.callFrame) : "(idle or GC)";
      leaves.set(leafName, (leaves.get(leafName) ?? 0) + 1);
      const where = own ? ownName : leafName;
      cpu.set(where, (cpu.get(where) ?? 0) + 1);
    }
    attributions.push({
      start: block.start,
      end: block.end,
      ms,
      samples: inside.length,
      at,
      ours: share(ours),
      leaves: share(leaves),
    });
  }
  const byFrame = new Map<
    string,
    { at: string; blocks: number; totalMs: number; longestMs: number; samples: number }
  >();
  for (const block of attributions) {
    const entry = byFrame.get(block.at) ?? { at: block.at, blocks: 0, totalMs: 0, longestMs: 0, samples: 0 };
    entry.blocks += 1;
    entry.samples += block.samples;
    entry.totalMs += block.ms;
    entry.longestMs = Math.max(entry.longestMs, block.ms);
    byFrame.set(block.at, entry);
  }
  return {
    byFrame: [...byFrame.values()].sort((a, b) => b.totalMs - a.totalMs),
    cpuByFrame: [...cpu.entries()]
      .map(([frame, samples]) => ({ frame, samples }))
      .sort((a, b) => b.samples - a.samples)
      .slice(0, 15),
    longest: [...attributions].sort((a, b) => b.ms - a.ms).slice(0, 10),
  };
}
