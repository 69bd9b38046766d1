// The only way the page talks to the server: typed GET/POST on /api/v1.
import type {
  AnnotationProgress,
  Attributions,
  AuditPage,
  Assigned,
  AssignRequest,
  Me,
  MyWork,
  TeamProgress,
  NewToken,
  NewUser,
  TokenInfo,
  UserChange,
  UserInfo,
  Comparison,
  ConflictBody,
  DiskReport,
  EpochCurve,
  GcRequest,
  GcResult,
  Job,
  ImageDetail,
  MaskCoverage,
  MaskExportOptions,
  MaskImportOptions,
  MaskImportReport,
  MaskKind,
  MaskVersion,
  Proposal,
  ProposalPage,
  ImagePage,
  ModelVersion,
  Neighbours,
  SegmentationInfo,
  Split,
  SplitMetrics,
  SuspiciousQueue,
  WorkspaceInfo,
} from "./types";
import type { Methods } from "./methods";

export type { Scored, Suspect } from "./types";
export type SuspectOrdering = "balanced" | "score";

export const API = "/api/v1";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly fix: string | null = null,
    readonly currentVersion: number | null = null,
  ) {
    super(message);
  }
}

type Params = Record<string, string | number | boolean | null | undefined>;

export function withParams(path: string, params: Params = {}): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `${path}?${text}` : path;
}

/** Turn an error body (ErrorBody, or ConflictBody for a 409) into an ApiError. */
export async function errorFrom(response: Response): Promise<ApiError> {
  let message = `${response.status} ${response.statusText}`;
  let fix: string | null = null;
  let currentVersion: number | null = null;
  try {
    const body: Partial<ConflictBody> = await response.json();
    if (typeof body.detail === "string") message = body.detail;
    fix = typeof body.fix === "string" ? body.fix : null;
    currentVersion = typeof body.current_version === "number" ? body.current_version : null;
  } catch {
    // not JSON: keep the status line
  }
  return new ApiError(response.status, message, fix, currentVersion);
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** The value of a cookie the server set for the page (team mode's CSRF token). */
export function cookie(name: string): string | null {
  const found = document.cookie.split("; ").find((item) => item.startsWith(`${name}=`));
  return found ? decodeURIComponent(found.slice(name.length + 1)) : null;
}

/** Team mode: every change carries the session's CSRF token (double submit). */
export function withCsrf(init: RequestInit = {}): RequestInit {
  const token = cookie("robustar_csrf");
  if (!token || SAFE_METHODS.has((init.method ?? "GET").toUpperCase())) return init;
  const headers = new Headers(init.headers);
  headers.set("x-csrf-token", token);
  return { ...init, headers };
}

/** Called with every 401 (team mode: signed out, or the session ended); the router sets it. */
export const onSignedOut: { handler: (() => void) | null } = { handler: null };

async function send(path: string, init?: RequestInit): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(API + path, withCsrf(init));
  } catch {
    throw new ApiError(0, "The Robustar server cannot be reached.", "Is `robustar serve` running?");
  }
  if (response.status === 401 && !path.startsWith("/auth/")) onSignedOut.handler?.();
  if (!response.ok) throw await errorFrom(response);
  return response;
}

function json(method: string, body: unknown): RequestInit {
  return { method, headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
}

async function request<T>(path: string, init?: RequestInit): Promise<T> {
  return (await (await send(path, init)).json()) as T;
}

/** A mask PNG, its version and who saved it, or null when the image has no mask of that kind
 * yet (204). */
async function mask(id: number, kind: MaskKind): Promise<{ version: number; author: string; png: Blob } | null> {
  const response = await send(`/images/${id}/masks/${kind}`);
  if (response.status === 204) return null;
  return {
    version: Number(response.headers.get("x-mask-version")),
    author: decodeURIComponent(response.headers.get("x-mask-author") ?? ""),
    png: await response.blob(),
  };
}

/** An attribution method's registered name (GET /methods lists them; "": the server's default). */
export type AttributionMethod = string;
/** Index settings a build may set; the server's defaults apply to the rest. */
export interface IndexOptions {
  dim?: number;
  ensemble?: number;
  fresh?: boolean;
}

export const api = {
  me: () => request<Me>("/auth/me"),
  login: (name: string, password: string) => request<Me>("/auth/login", json("POST", { name, password })),
  logout: () => send("/auth/logout", { method: "POST" }),
  tokens: () => request<TokenInfo[]>("/auth/tokens"),
  newToken: (label: string) => request<NewToken>("/auth/tokens", json("POST", { label })),
  revokeToken: (id: number) => send(`/auth/tokens/${id}`, { method: "DELETE" }),
  users: () => request<UserInfo[]>("/users"),
  addUser: (body: NewUser) => request<UserInfo>("/users", json("POST", body)),
  changeUser: (name: string, change: UserChange) =>
    request<UserInfo>(`/users/${encodeURIComponent(name)}`, json("PATCH", change)),
  audit: (page = 1, actor: string | null = null) =>
    request<AuditPage>(withParams("/audit", { page, page_size: 100, actor })),
  assign: (body: AssignRequest) => request<Assigned>("/assignments", json("POST", body)),
  myWork: () => request<MyWork>("/assignments/mine"),
  teamProgress: () => request<TeamProgress>("/assignments/progress"),
  workspace: () => request<WorkspaceInfo>("/workspace"),
  methods: () => request<Methods>("/methods"),
  models: () => request<ModelVersion[]>("/models"),
  makeCurrent: (id: number) => request<ModelVersion>(`/models/${id}/current`, { method: "POST" }),
  pin: (id: number, pinned: boolean) =>
    request<ModelVersion>(`/models/${id}/pin`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ pinned }),
    }),
  disk: () => request<DiskReport>("/disk"),
  gc: (body: Partial<GcRequest>) =>
    request<GcResult>("/gc", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    }),
  /** Upload weights (a .safetensors file, or a torch.save state dict) as the new current version. */
  importModel: (file: Blob, format: "safetensors" | "pt", architecture?: string) =>
    request<ModelVersion>(withParams("/models/import", { format, architecture }), {
      method: "POST",
      headers: { "content-type": "application/octet-stream" },
      body: file,
    }),
  /** Upload masks (a zip of PNGs, or a COCO / Label Studio JSON file); dry_run only reports. */
  importMasks: (file: Blob, options: MaskImportOptions) =>
    request<MaskImportReport>(withParams("/masks/import", { ...options }), {
      method: "POST",
      headers: { "content-type": file.type || "application/octet-stream" },
      body: file,
    }),
  images: (params: Params) => request<ImagePage>(withParams("/images", params)),
  image: (id: number) => request<ImageDetail>(`/images/${id}`),
  neighbours: (id: number, params: Params) =>
    request<Neighbours>(withParams(`/images/${id}/neighbours`, params)),
  metrics: (split: string, version?: number) =>
    request<SplitMetrics>(withParams("/metrics", { split, version })),
  mask,
  saveMask: (id: number, kind: MaskKind, png: Blob, baseVersion: number | null) =>
    request<MaskVersion>(withParams(`/images/${id}/masks/${kind}`, { base_version: baseVersion }), {
      method: "PUT",
      headers: { "content-type": "image/png" },
      body: png,
    }),
  maskHistory: (id: number, kind: MaskKind) => request<MaskVersion[]>(`/images/${id}/masks/${kind}/versions`),
  superpixels: async (id: number, segments: number) =>
    (await send(withParams(`/images/${id}/superpixels`, { segments }))).blob(),
  grabcut: async (id: number, box: number[], foreground: number[][], background: number[][]) =>
    (
      await send(`/images/${id}/grabcut`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ box, foreground, background }),
      })
    ).blob(),
  segmentation: () => request<SegmentationInfo>("/segmentation"),
  segment: async (id: number, points: number[][], labels: number[]) =>
    (
      await send(`/images/${id}/segment`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ points, labels }),
      })
    ).blob(),
  jobs: () => request<Job[]>("/jobs"),
  job: (id: number) => request<Job>(`/jobs/${id}`),
  train: (options: Record<string, unknown>, predict = true) =>
    request<Job>("/jobs/train", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ options, predict }),
    }),
  /** A repair search (candidates trained from the grid, one chosen by the user's masks). */
  repairSearch: (options: Record<string, unknown>) =>
    request<Job>("/jobs/repair_search", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ options }),
    }),
  /** Predict splits with a model version (a `predict` job). */
  predict: (version: number, splits: Split[]) =>
    request<Job>("/jobs/predict", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ version, splits }),
    }),
  cancelJob: (id: number) => request<Job>(`/jobs/${id}/cancel`, { method: "POST" }),
  resumeJob: (id: number) => request<Job>(`/jobs/${id}/resume`, { method: "POST" }),
  compare: (before: number, after?: number) => request<Comparison>(withParams("/compare", { before, after })),
  proposals: (page: number, pageSize = 48) =>
    request<ProposalPage>(withParams("/proposals", { page, page_size: pageSize })),
  review: (id: number, decision: "accept" | "reject" | "edited") =>
    request<Proposal>(`/proposals/${id}/${decision}`, { method: "POST" }),
  autoAnnotate: (body: Record<string, unknown>) =>
    request<Job>("/jobs/auto-annotate", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    }),
  /** `target`: the class to explain; null: the label (the prediction when unlabelled). */
  attribution: (id: number, method: AttributionMethod = "", k = 8, target: number | null = null) =>
    request<Attributions>(withParams(`/images/${id}/attribution`, { method, k, target })),
  suspicious: (
    limit = 100,
    method: AttributionMethod = "",
    ordering: SuspectOrdering = "balanced",
    excludeAnnotated = false,
  ) =>
    request<SuspiciousQueue>(
      withParams("/attribution/suspicious", {
        method,
        limit,
        ordering,
        exclude_annotated: excludeAnnotated || null,
      }),
    ),
  buildAttribution: (method: AttributionMethod, options: IndexOptions = {}) =>
    request<{ id: number }>("/jobs/attribution", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ method, ...options }),
    }),
  curves: (version: number) => request<EpochCurve[]>(`/models/${version}/epochs`),
  progress: (kind: MaskKind) => request<AnnotationProgress>(withParams("/annotations/progress", { kind })),
  maskCoverage: (split: "train" | "validation" | "test") => request<MaskCoverage>(withParams("/masks/coverage", { split })),
};

export function thumbnailUrl(id: number, fingerprint: string, size = 128): string {
  return withParams(`${API}/images/${id}/thumbnail`, { size, v: fingerprint.slice(0, 12) });
}

export function fileUrl(id: number, fingerprint: string): string {
  return withParams(`${API}/images/${id}/file`, { v: fingerprint.slice(0, 12) });
}

/** Whether a job may still change (queued or running). */
export const jobActive = (job: Job | null): boolean => !!job && (job.status === "queued" || job.status === "running");

/** Live updates of one job (server-sent events); returns a function that stops listening. */
export function watchJob(id: number, onJob: (job: Job) => void): () => void {
  const source = new EventSource(`${API}/jobs/${id}/events`);
  source.onmessage = (event) => onJob(JSON.parse(event.data) as Job);
  source.addEventListener("end", () => source.close());
  return () => source.close();
}

/** The repair report as a file to download (Content-Disposition: attachment). */
export function reportUrl(before: number, after: number, format: "html" | "markdown"): string {
  return withParams(`${API}/compare/report`, { before, after, format });
}

/** The masks as a file to download (a zip of PNGs, or JSON): Content-Disposition: attachment. */
export function maskExportUrl(options: MaskExportOptions): string {
  return withParams(`${API}/masks/export`, { ...options });
}

export function proposalMaskUrl(id: number): string {
  return `${API}/proposals/${id}/mask`;
}

export function saliencyUrl(id: number, method: string, target: number | null): string {
  return withParams(`${API}/images/${id}/saliency`, { method, target });
}

export function activationUrl(version: number, target: number): string {
  return `${API}/models/${version}/activation/${target}`;
}
