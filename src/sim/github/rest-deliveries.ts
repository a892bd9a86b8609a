/**
 * The app's webhook deliveries (GET /app/hook/deliveries and /app/hook/deliveries/{delivery_id}),
 * as GitHub documents them: newest first, paged by an opaque `cursor` named in the Link header's
 * rel="next" (no page numbers, no rel="last"), kept for 3 days. The deliveries are the world's push
 * webhooks (pushDeliveriesOf), each sent once at its push's time; the simulator cannot know which
 * ones the app received, so each says GitHub's side: delivered, 200.
 */
import { pushDeliveriesOf, type SimPushDelivery } from "./rest-activity.js";
import { RouteError, type Route, type RouteRequest } from "./rest-common.js";
import type { World } from "./world.js";

/** GitHub.com keeps an app's webhook deliveries for 3 days. */
export const DELIVERY_RETENTION_MS = 3 * 24 * 60 * 60 * 1000;

interface SimDelivery extends SimPushDelivery {
  /** GitHub's numeric delivery id: increasing with time. */
  number: number;
  repositoryId: number;
}

const byWorld = new WeakMap<World, SimDelivery[]>();

/** Every push delivery of the world, oldest first (the world does not change once built). */
export function deliveriesOf(world: World): SimDelivery[] {
  const known = byWorld.get(world);
  if (known) return known;
  const all: Omit<SimDelivery, "number">[] = [];
  for (const repo of world.repositories.values()) {
    const names = new Set([
      repo.facts.defaultBranch,
      ...repo.facts.productionBranches,
      ...repo.branchCommits.keys(),
    ]);
    for (const branch of names)
      for (const delivery of pushDeliveriesOf(world, repo, branch))
        all.push({ ...delivery, repositoryId: repo.id });
  }
  all.sort((a, b) => Date.parse(a.receivedAt) - Date.parse(b.receivedAt) || (a.id < b.id ? -1 : 1));
  const numbered = all.map((delivery, i) => ({ ...delivery, number: 90_000_000 + i }));
  byWorld.set(world, numbered);
  return numbered;
}

/** The deliveries GitHub still lists at the world's time: the last 3 days, none from its future. */
function listed(request: RouteRequest): SimDelivery[] {
  const now = Date.parse(request.world.now());
  return deliveriesOf(request.world).filter((d) => {
    const at = Date.parse(d.receivedAt);
    return at <= now && at >= now - DELIVERY_RETENTION_MS;
  });
}

function summary(delivery: SimDelivery) {
  return {
    id: delivery.number,
    guid: delivery.id,
    delivered_at: new Date(delivery.receivedAt).toISOString().replace(/\.\d{3}Z$/, "Z"),
    redelivery: false,
    duration: 0.12,
    status: "OK",
    status_code: 200,
    event: "push",
    action: null,
    installation_id: 1,
    repository_id: delivery.repositoryId,
    throttled_at: null,
  };
}

export const DELIVERY_ROUTES: Route[] = [
  {
    method: "GET",
    path: "/app/hook/deliveries",
    handle: (r) => {
      const perPage = Math.min(100, Math.max(1, Number(r.query.get("per_page") ?? 30) || 30));
      const newest = listed(r).reverse();
      const cursor = r.query.get("cursor");
      // The cursor names the last delivery of the page before: the next page starts after it.
      let start = 0;
      if (cursor) {
        const after = Number(
          Buffer.from(cursor, "base64url")
            .toString("utf8")
            .replace(/^after:/, ""),
        );
        if (!Number.isInteger(after)) throw new RouteError(422, "Invalid cursor");
        start = newest.findIndex((d) => d.number < after);
        if (start === -1) start = newest.length;
      }
      const page = newest.slice(start, start + perPage);
      const last = page.at(-1);
      const headers: Record<string, string> = {};
      if (last && start + perPage < newest.length) {
        const next = new URL(`${r.api}/app/hook/deliveries`);
        next.searchParams.set("per_page", String(perPage));
        next.searchParams.set("cursor", Buffer.from(`after:${last.number}`).toString("base64url"));
        headers.link = `<${next.toString()}>; rel="next"`;
      }
      return { status: 200, body: page.map(summary), headers };
    },
  },
  {
    method: "GET",
    path: "/app/hook/deliveries/{delivery_id}",
    handle: (r) => {
      const delivery = listed(r).find((d) => String(d.number) === r.params.delivery_id);
      if (!delivery) throw new RouteError(404, "Not Found");
      return {
        status: 200,
        body: {
          ...summary(delivery),
          url: "https://soc2-bot.example/api/github/webhooks",
          request: {
            headers: {
              "X-GitHub-Delivery": delivery.id,
              "X-GitHub-Event": "push",
              "X-GitHub-Hook-Installation-Target-Type": "integration",
              "User-Agent": "GitHub-Hookshot/sim",
              "content-type": "application/json",
            },
            payload: delivery.payload,
          },
          response: { headers: { "Content-Type": "text/plain" }, payload: "ok" },
        },
      };
    },
  },
];
