// A form built from a JSON schema (pydantic's, e.g. TrainOptions'): one field per property,
// with its kind, choices, bounds and default, and the request body of the values set.

/** The part of JSON Schema that pydantic writes for flat models. */
export interface JsonSchema {
  properties?: Record<string, JsonProperty>;
  [key: string]: unknown;
}
export interface JsonProperty {
  type?: string;
  title?: string;
  description?: string;
  default?: unknown;
  enum?: unknown[];
  anyOf?: JsonProperty[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  /** The option values under which the field applies, e.g. {"paired": true}; a list: any of. */
  when?: Record<string, unknown>;
}

export interface FormField {
  name: string;
  label: string;
  description: string;
  kind: "select" | "checkbox" | "number" | "text";
  choices: string[];
  /** Empty means "not set": the server's default (for fields that may be null). */
  nullable: boolean;
  /** A yes / no field; one that may be unset is a select of "true" / "false" and "default". */
  boolean: boolean;
  integer: boolean;
  min: number | null;
  max: number | null;
  default: unknown;
  when: Record<string, unknown>;
}

export type FormValues = Record<string, unknown>;

/** The schema's properties as fields, leaving out those that can only be null (not accepted). */
export function formFields(schema: JsonSchema): FormField[] {
  const settable = Object.entries(schema.properties ?? {}).filter(([, p]) => (p.anyOf ?? [p]).some((v) => v.type !== "null"));
  return settable.map(([name, property]) => {
    const variants = property.anyOf ?? [property];
    const shape = variants.find((v) => v.type !== "null") ?? {};
    const nullable = variants.some((v) => v.type === "null");
    const boolean = shape.type === "boolean";
    const choices = boolean && nullable ? ["true", "false"] : (shape.enum ?? []).map(String);
    const kind = choices.length
      ? "select"
      : boolean
        ? "checkbox"
        : shape.type === "integer" || shape.type === "number"
          ? "number"
          : "text";
    return {
      name,
      label: (property.title ?? name).toLowerCase(),
      description: property.description ?? "",
      kind,
      choices,
      nullable,
      boolean,
      integer: shape.type === "integer",
      min: shape.minimum ?? shape.exclusiveMinimum ?? null,
      max: shape.maximum ?? shape.exclusiveMaximum ?? null,
      default: property.default ?? null,
      when: property.when ?? {},
    };
  });
}

/** The form's first values: each field's default ("" for a null default: not set). */
export function initialValues(fields: FormField[]): FormValues {
  return Object.fromEntries(fields.map((f) => [f.name, f.default ?? ""]));
}

/** Whether the field applies to the values chosen so far (its `when` holds). */
export function applies(field: FormField, values: FormValues): boolean {
  return Object.entries(field.when).every(([key, wanted]) =>
    Array.isArray(wanted) ? wanted.includes(values[key]) : values[key] === wanted,
  );
}

/** The request body: the fields that apply and are set; the server fills in and checks the rest. */
export function formBody(fields: FormField[], values: FormValues): FormValues {
  const body: FormValues = {};
  for (const field of fields) {
    const value = values[field.name];
    if (!applies(field, values) || value === "" || value === null || value === undefined) continue;
    body[field.name] = field.kind === "number" ? Number(value) : field.boolean ? value === true || value === "true" : value;
  }
  return body;
}
