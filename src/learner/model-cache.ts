/**
 * The global models a learner process holds. In a learner host many learners' tasks name the same
 * model in a cycle: the first to need it fetches it over its own session, the others wait for that
 * fetch, and a fetch that fails (its session died) is forgotten so the next learner asks again.
 */
export interface ModelCache {
  /** The weights of model `ref`, fetched with `fetch` unless this process holds or is fetching them. */
  get(ref: string, fetch: () => Promise<Float32Array>): Promise<Float32Array>;
}

/** A cycle names one model per scheme: a few suffice, and older ones are never named again. */
const MODELS_KEPT = 4;

export function createModelCache(kept = MODELS_KEPT): ModelCache {
  const models = new Map<string, Promise<Float32Array>>();
  return {
    get(ref, fetch) {
      const held = models.get(ref);
      if (held) return held;
      const fetched = fetch();
      models.set(ref, fetched);
      fetched.catch(() => {
        if (models.get(ref) === fetched) models.delete(ref);
      });
      // Oldest first (a Map keeps insertion order).
      for (const old of models.keys()) {
        if (models.size <= kept) break;
        models.delete(old);
      }
      return fetched;
    },
  };
}
