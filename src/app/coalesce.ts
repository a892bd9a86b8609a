/**
 * Collapses bursts of events for one key (a change request): while a run is going, any number of
 * further events for the same key cause exactly one more run after it, with the newest event's work
 * (its mark of when it arrived, its head). Each run collects fresh facts, so the last run always sees
 * the newest state; runs for one key never overlap, so they cannot race each other into a duplicate
 * check run. Across processes the coordinator's lock and evaluation marks do the same (coordinator.ts).
 */
export function createCoalescer(): (key: string, work: () => Promise<void>) => Promise<void> {
  const active = new Map<string, { next: (() => Promise<void>) | null; done: Promise<void> }>();
  return (key, work) => {
    const current = active.get(key);
    if (current) {
      current.next = work;
      return current.done;
    }
    const entry: { next: (() => Promise<void>) | null; done: Promise<void> } = {
      next: work,
      done: Promise.resolve(),
    };
    entry.done = (async () => {
      try {
        while (entry.next) {
          const run = entry.next;
          entry.next = null;
          try {
            await run();
          } catch (error) {
            if (!entry.next) throw error;
          }
        }
      } finally {
        active.delete(key);
      }
    })();
    active.set(key, entry);
    return entry.done;
  };
}
