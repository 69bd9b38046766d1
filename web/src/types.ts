// Shapes of the /api/v1 responses (see the OpenAPI document at /api/v1/openapi.json).

export type Split = "train" | "validation" | "test" | "pool";

export interface SplitInfo {
  name: Split;
  images: number;
  class_counts: Record<string, number>;
  problems: number;
}

export interface ModelVersion {
  id: number;
  name: string;
  parent_id: number | null;
  architecture: string;
  num_classes: number;
  source: string;
  config: Record<string, unknown>;
  metrics: Record<string, { accuracy: number | null; loss: number | null; images: number }>;
  created_at: string;
  is_current: boolean;
}

export interface WorkspaceInfo {
  name: string;
  classes: string[];
  splits: SplitInfo[];
  versions: ModelVersion[];
  current_version: number | null;
}

export interface ImageSummary {
  id: number;
  name: string;
  label: number | null;
  width: number;
  height: number;
  fingerprint: string;
  predicted: number | null;
  confidence: number | null;
  loss: number | null;
  correct: boolean | null;
}

export interface ImagePage {
  total: number;
  page: number;
  page_size: number;
  pages: number;
  items: ImageSummary[];
}

export interface Prediction {
  version_id: number;
  predicted: number;
  confidence: number;
  loss: number | null;
  correct: boolean | null;
  probabilities: number[];
}

export interface ImageDetail {
  id: number;
  split: Split;
  name: string;
  label: number | null;
  width: number;
  height: number;
  fingerprint: string;
  prediction: Prediction | null;
}

export interface Neighbours {
  index: number | null;
  total: number;
  previous_id: number | null;
  next_id: number | null;
}

export interface ClassMetrics {
  name: string;
  support: number;
  accuracy: number | null;
  precision: number | null;
}

export interface SplitMetrics {
  split: Split;
  version_id: number;
  images: number;
  accuracy: number | null;
  loss: number | null;
  per_class: ClassMetrics[];
  confusion: number[][];
}

export type MaskKind = "spurious" | "object";

export interface MaskVersion {
  image_id: number;
  kind: MaskKind;
  version: number;
  author: string;
  created_at: string;
  pixels: number;
  is_current: boolean;
}

export interface AnnotationProgress {
  kind: MaskKind;
  splits: Record<string, Record<string, { annotated: number; images: number }>>;
}

export interface EpochCurve {
  epoch: number;
  train_loss: number;
  train_accuracy: number;
  val_loss: number | null;
  val_accuracy: number | null;
  test_accuracy: number | null;
  learning_rate: number;
  seconds: number;
}

export interface Job {
  id: number;
  kind: string;
  params: Record<string, unknown>;
  status: "queued" | "running" | "succeeded" | "failed" | "cancelled" | "interrupted";
  stage: string;
  done: number;
  total: number;
  log: string;
  result: { version_id?: number; epochs?: EpochCurve[]; [key: string]: unknown };
  error: string | null;
  cancel_requested: boolean;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

export interface SplitComparison {
  split: Split;
  images: number;
  before: number | null;
  after: number | null;
  fixed: number;
  broken: number;
  changed: number;
  per_class: { name: string; before: number | null; after: number | null }[];
}

export interface Comparison {
  before: number;
  after: number;
  splits: SplitComparison[];
  filled: {
    images: number;
    filler: string;
    before_original: number | null;
    after_original: number | null;
    before_filled: number | null;
    after_filled: number | null;
    before_saliency_in_mask: number | null;
    after_saliency_in_mask: number | null;
  } | null;
}

export interface Proposal {
  id: number;
  image_id: number;
  kind: MaskKind;
  method: string;
  job_id: number | null;
  pixels: number;
  status: "pending" | "accepted" | "rejected";
  created_at: string;
}
