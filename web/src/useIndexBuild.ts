import { onBeforeUnmount, type Ref, ref, watch } from "vue";
import { api, ApiError, type AttributionMethod, type IndexOptions, jobActive, watchJob } from "./api";

/** Queue an attribution index build for the chosen method, follow its job, and call `done`
 * when it succeeds (the page then shows the index's results). A build that cannot be queued,
 * or fails, leaves its message in `error`. Changing the method forgets the queued job. */
export function useIndexBuild(method: Ref<AttributionMethod>, done: () => void) {
  const queued = ref<number | null>(null);
  const error = ref<ApiError | null>(null);
  let stopWatching: (() => void) | null = null;

  function follow(id: number | null): void {
    stopWatching?.();
    stopWatching = null;
    if (id === null) return;
    stopWatching = watchJob(id, (job) => {
      if (jobActive(job)) return;
      queued.value = null;
      if (job.status === "succeeded") done();
      else error.value = new ApiError(0, `the index build (job #${id}) ${job.status}: ${job.error ?? "no detail"}`);
    });
  }
  watch(queued, follow);
  watch(method, () => {
    queued.value = null;
    error.value = null;
  });
  onBeforeUnmount(() => stopWatching?.());

  /** Queue a build (with `fresh`, a rebuild) of the chosen method's index. */
  async function build(options: IndexOptions = {}): Promise<void> {
    const asked = method.value;
    error.value = null;
    try {
      const id = (await api.buildAttribution(asked, options)).id;
      if (method.value === asked) queued.value = id; // else the page moved on to another method
    } catch (e) {
      if (method.value === asked) error.value = e instanceof ApiError ? e : new ApiError(0, String(e));
    }
  }

  return { queued, error, build };
}
