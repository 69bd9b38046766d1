// Display preferences and form values that survive a reload (mask colour, gallery density, the
// Review page's auto-annotation form): one JSON value per key in localStorage, checked on the
// way in so a stale or edited value falls back.
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

function writePreference(key: string, value: unknown): void {
  try {
    window.localStorage.setItem(PREFIX + key, JSON.stringify(value));
  } catch {
    // storage full or disabled: the choice lasts for this page only
  }
}

/** A ref that starts from the stored value and writes every change back (deeply). */
export function usePreference<T>(key: string, fallback: T, valid: (value: unknown) => value is T): Ref<T> {
  const value = ref(readPreference(key, fallback, valid)) as Ref<T>;
  watch(value, (next) => writePreference(key, next), { deep: true });
  return value;
}

type Primitive = string | number | boolean;
const isPrimitive = (v: unknown): v is Primitive => ["string", "number", "boolean"].includes(typeof v);
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Keep a form's reactive values under a key known only later (one per workspace): once `key`
 * gives a name, its stored strings, numbers and yes / no values are put back, and every change
 * is written from then on. */
export function useStoredValues(key: () => string | null, values: Record<string, unknown>): void {
  watch(
    key,
    (name) => {
      if (name === null) return;
      for (const [field, value] of Object.entries(readPreference(name, {}, isRecord)))
        if (isPrimitive(value)) values[field] = value;
    },
    { immediate: true },
  );
  watch(
    () => ({ ...values }),
    (next) => {
      const name = key();
      if (name !== null) writePreference(name, next);
    },
  );
}
