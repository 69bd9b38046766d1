// Display preferences that survive a reload (mask colour, gallery density): one JSON value
// per key in localStorage, checked on the way in so a stale or edited value falls back.
import { ref, watch, type Ref } from "vue";

const PREFIX = "robustar.";

/** The stored value of `key` when `valid` accepts it, else `fallback`. */
export function readPreference<T>(key: string, fallback: T, valid: (value: unknown) => value is T): T {
  try {
    const raw = window.localStorage.getItem(PREFIX + key);
    if (raw === null) return fallback;
    const value: unknown = JSON.parse(raw);
    return valid(value) ? value : fallback;
  } catch {
    return fallback; // storage disabled or not JSON
  }
}

/** A ref that starts from the stored value and writes every change back (deeply). */
export function usePreference<T>(key: string, fallback: T, valid: (value: unknown) => value is T): Ref<T> {
  const value = ref(readPreference(key, fallback, valid)) as Ref<T>;
  watch(
    value,
    (next) => {
      try {
        window.localStorage.setItem(PREFIX + key, JSON.stringify(next));
      } catch {
        // storage full or disabled: the choice lasts for this page only
      }
    },
    { deep: true },
  );
  return value;
}
