// Loading and error state for one request, re-run when its inputs change.
import { ref, type Ref } from "vue";
import { ApiError } from "./api";

export interface RequestState<T> {
  data: Ref<T | null>;
  loading: Ref<boolean>;
  error: Ref<ApiError | null>;
  run: () => Promise<void>;
}

export function useRequest<T>(load: () => Promise<T>): RequestState<T> {
  const data = ref<T | null>(null) as Ref<T | null>;
  const loading = ref(false);
  const error = ref<ApiError | null>(null);
  let latest = 0;
  async function run(): Promise<void> {
    const ticket = ++latest;
    loading.value = true;
    error.value = null;
    try {
      const result = await load();
      if (ticket === latest) data.value = result;
    } catch (e) {
      if (ticket === latest) {
        data.value = null;
        error.value = e instanceof ApiError ? e : new ApiError(0, String(e));
      }
    } finally {
      if (ticket === latest) loading.value = false;
    }
  }
  return { data, loading, error, run };
}
