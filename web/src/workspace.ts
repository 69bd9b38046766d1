// The workspace summary (classes, splits, versions), loaded once and shared by every view.
import { api } from "./api";
import { useRequest, type RequestState } from "./useRequest";
import type { WorkspaceInfo } from "./types";

let shared: RequestState<WorkspaceInfo> | null = null;

export function useWorkspace(): RequestState<WorkspaceInfo> {
  if (shared === null) {
    shared = useRequest(api.workspace);
    void shared.run();
  }
  return shared;
}
