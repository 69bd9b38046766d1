import { describe, expect, it } from "vitest";
import { applies, formBody, formFields, initialValues, type JsonSchema } from "../src/schemaForm";

// The shape pydantic writes for TrainOptions (a few of its fields).
const schema: JsonSchema = {
  properties: {
    init: { type: "string", enum: ["scratch", "current", "checkpoint"], default: "scratch", title: "Init" },
    checkpoint: { anyOf: [{ type: "string" }, { type: "null" }], default: null, when: { init: "checkpoint" } },
    upload_only: { type: "null", default: null, description: "not accepted here" },
    architecture: { anyOf: [{ type: "string" }, { type: "null" }], default: null, when: { init: ["scratch", "checkpoint"] } },
    epochs: { type: "integer", minimum: 1, maximum: 10000, default: 10, title: "Epochs" },
    batch_size: { anyOf: [{ type: "integer", minimum: 1 }, { type: "null" }], default: null, description: "default: robustar.toml" },
    learning_rate: { type: "number", exclusiveMinimum: 0, default: 0.001, title: "Learning Rate" },
    device: { anyOf: [{ type: "string", enum: ["auto", "cpu"] }, { type: "null" }], default: null },
    paired: { type: "boolean", default: false },
    invert: { anyOf: [{ type: "boolean" }, { type: "null" }], default: null, description: "not set: by kind" },
    filler: { type: "string", enum: ["uniform", "mixture"], default: "mixture", when: { paired: true } },
  },
};

describe("formFields", () => {
  it("renders every property that can be set, in order, with its kind", () => {
    const fields = formFields(schema);
    expect(fields.map((f) => f.name)).toEqual(Object.keys(schema.properties!).filter((n) => n !== "upload_only"));
    const kinds = Object.fromEntries(fields.map((f) => [f.name, f.kind]));
    expect(kinds).toEqual({
      init: "select",
      checkpoint: "text",
      architecture: "text",
      epochs: "number",
      batch_size: "number",
      learning_rate: "number",
      device: "select",
      paired: "checkbox",
      invert: "select",
      filler: "select",
    });
  });

  it("keeps choices, bounds, defaults and whether a field may be left unset", () => {
    const byName = Object.fromEntries(formFields(schema).map((f) => [f.name, f]));
    expect(byName.device.choices).toEqual(["auto", "cpu"]);
    expect(byName.device.nullable).toBe(true);
    expect(byName.epochs).toMatchObject({ integer: true, min: 1, max: 10000, default: 10, nullable: false });
    expect(byName.learning_rate).toMatchObject({ integer: false, min: 0, label: "learning rate" });
    expect(byName.batch_size.description).toBe("default: robustar.toml");
  });
});

describe("formBody", () => {
  const fields = formFields(schema);

  it("offers a yes / no field that may be unset as true, false or the default, and sends a boolean", () => {
    const invert = fields.find((f) => f.name === "invert")!;
    expect(invert).toMatchObject({ choices: ["true", "false"], nullable: true, boolean: true, default: null });
    const values = initialValues(fields);
    expect(formBody(fields, values)).not.toHaveProperty("invert");
    expect(formBody(fields, { ...values, invert: "false" }).invert).toBe(false);
    expect(formBody(fields, { ...values, invert: "true" }).invert).toBe(true);
  });

  it("sends the fields that apply and are set; unset ones take the server's default", () => {
    const values = initialValues(fields);
    expect(values.batch_size).toBe("");
    expect(formBody(fields, values)).toEqual({ init: "scratch", epochs: 10, learning_rate: 0.001, paired: false });
  });

  it("follows `when`: a value, or a list of values", () => {
    const values = { ...initialValues(fields), init: "current", architecture: "tiny_cnn", paired: true, epochs: "3" };
    const byName = Object.fromEntries(fields.map((f) => [f.name, f]));
    expect(applies(byName.architecture, values)).toBe(false);
    expect(applies(byName.checkpoint, values)).toBe(false);
    expect(formBody(fields, values)).toEqual({
      init: "current",
      epochs: 3,
      learning_rate: 0.001,
      paired: true,
      filler: "mixture",
    });
    expect(formBody(fields, { ...values, init: "checkpoint", checkpoint: "w.pt" })).toMatchObject({
      architecture: "tiny_cnn",
      checkpoint: "w.pt",
    });
  });
});
