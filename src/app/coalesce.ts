/**
 * Collapses bursts of events for one key (a change request): while a run is going, any number of
 * further events for the same key cause exactly one more run after it. Each run collects fresh facts,
 * so the last run always sees the newest state; runs for one key never overlap, so they cannot race
 * each other into a duplicate check run.
 */
export function createCoalescer(): (key: string, work: () => Promise<void>) => Promise<void> {
  const active = new Map<string, { rerun: boolean; done: Promise<void> }>();
  return (key, work) => {
    const current = active.get(key);
    if (current) {
      current.rerun = true;
      return current.done;
    }
    const entry = { rerun: false, done: Promise.resolve() };
    entry.done = (async () => {
      try {
        for (;;) {
          entry.rerun = false;
          try {
            await work();
          } catch (error) {
            if (!entry.rerun) throw error;
          }
          if (!entry.rerun) return;
        }
      } finally {
        active.delete(key);
      }
    })();
    active.set(key, entry);
    return entry.done;
  };
}
