// Shapes of the /api/v1 responses, by the names the web app uses. They are aliases of
// api-schema.d.ts, which `make types` generates from the server's OpenAPI document (do not
// edit it by hand; tests/test_web_types.py fails when it is out of date).
import type { components } from "./api-schema";

type Schemas = components["schemas"];

export type ErrorBody = Schemas["ErrorBody"];
export type ConflictBody = Schemas["ConflictBody"];
export type SplitInfo = Schemas["Split"];
export type Split = SplitInfo["name"];
export type ModelVersion = Schemas["ModelVersion"];
export type WorkspaceInfo = Schemas["WorkspaceInfo"];
export type ImageSummary = Schemas["ImageSummary"];
export type ImagePage = Schemas["ImagePage"];
export type Prediction = Schemas["Prediction"];
export type ImageDetail = Schemas["ImageDetail"];
export type Neighbours = Schemas["Neighbours"];
export type ClassMetrics = Schemas["ClassMetrics"];
export type SplitMetrics = Schemas["SplitMetrics"];
export type MaskVersion = Schemas["MaskVersion"];
export type MaskKind = MaskVersion["kind"];
export type AnnotationProgress = Schemas["AnnotationProgress"];
export type MaskCoverage = Schemas["MaskCoverage"];
export type MaskImportReport = Schemas["ImportReport"];
type Operations = import("./api-schema").operations;
export type MaskExportOptions = NonNullable<Operations["export_masks_api_v1_masks_export_get"]["parameters"]["query"]>;
export type MaskImportOptions = NonNullable<Operations["import_masks_api_v1_masks_import_post"]["parameters"]["query"]>;
export type EpochCurve = Schemas["EpochResult"];
export type SplitComparison = Schemas["SplitComparison"];
export type Comparison = Schemas["RepairReport"];
export type Verdict = Schemas["Verdict"];
export type Proposal = Schemas["ProposalInfo"];
export type ProposalPage = Schemas["ProposalPage"];
export type SegmentationInfo = Schemas["SegmentationInfo"];
export type Scored = Schemas["Scored"];
export type Suspect = Schemas["Suspect"];
export type Attributions = Schemas["Influence"];
export type SuspiciousQueue = Schemas["SuspiciousQueue"];
export type DiskReport = Schemas["DiskReport"];
export type GcRequest = Schemas["GcRequest"];
export type GcResult = Schemas["GcResult"];
export type Me = Schemas["Me"];
export type Role = NonNullable<Me["role"]>;
export type UserInfo = Schemas["UserInfo"];
export type NewUser = Schemas["NewUser"];
export type UserChange = Schemas["UserChange"];
export type TokenInfo = Schemas["TokenInfo"];
export type NewToken = Schemas["NewToken"];
export type AuditPage = Schemas["AuditPage"];
export type AuditInfo = Schemas["AuditInfo"];
export type AssignRequest = Schemas["AssignRequest"];
export type Assigned = Schemas["Assigned"];
export type MyWork = Schemas["MyWork"];
export type TeamProgress = Schemas["TeamProgress"];
export type BatchProgress = Schemas["BatchProgress"];

/** What a finished training job leaves in `result` (the schema only says "an object"). */
export interface TrainResult {
  version_id?: number;
  epochs?: EpochCurve[];
  [key: string]: unknown;
}

/** One candidate of a repair search (`result.candidates` of a `repair_search` job). */
export interface SearchCandidate {
  index: number;
  settings: Record<string, unknown>;
  version_id: number;
  clean_accuracy: number;
  filled_accuracy: number;
  consistency: number;
  score: number;
  eligible: boolean | null;
  chosen: boolean;
}

/** What a repair search job leaves in `result` (candidates as they finish, the rest at the end). */
export interface SearchResult {
  candidates?: SearchCandidate[];
  split?: string;
  images?: number;
  chosen_id?: number;
  promoted?: boolean;
  reason?: string;
}

export type Job = Omit<Schemas["JobInfo"], "result"> & { result: TrainResult };
