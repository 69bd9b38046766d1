// The registered methods (GET /methods): every family's names, descriptions, options and
// default, and the training options' JSON schema. Loaded once and shared, like the workspace.
import { ref, watchEffect, type Ref } from "vue";
import { api } from "./api";
import type { JsonSchema } from "./schemaForm";
import { useRequest, type RequestState } from "./useRequest";

export interface OptionInfo {
  name: string;
  type: string;
  default: unknown;
  choices: unknown[] | null;
  description: string | null;
}
export interface MethodInfo {
  name: string;
  description: string;
  options: OptionInfo[];
  meta: Record<string, unknown>;
}
export interface Family {
  default: string | null;
  methods: MethodInfo[];
}
export interface Methods {
  saliency: Family;
  attribution: Family;
  filler: Family;
  regularizer: Family;
  segmenter: Family;
  train_options: JsonSchema;
  search_options: JsonSchema;
  auto_annotate_options: JsonSchema;
}
export type FamilyName = Exclude<keyof Methods, "train_options" | "search_options" | "auto_annotate_options">;

let shared: RequestState<Methods> | null = null;

export function useMethods(): RequestState<Methods> {
  if (shared === null) {
    shared = useRequest(api.methods);
    void shared.run();
  }
  return shared;
}

/** A choice of method in `family`: "" (the server's default) until the methods have loaded,
 * then the family's default, so a select always shows what is used. */
export function useMethodChoice(family: FamilyName, choice: Ref<string> = ref("")): Ref<string> {
  const methods = useMethods();
  watchEffect(() => {
    if (choice.value === "" && methods.data.value) choice.value = methods.data.value[family].default ?? "";
  });
  return choice;
}

/** Whether the method in `family` takes the option (e.g. trak's `ensemble`). */
export function takes(family: Family | undefined, method: string, option: string): boolean {
  return family?.methods.find((m) => m.name === method)?.options.some((o) => o.name === option) ?? false;
}
