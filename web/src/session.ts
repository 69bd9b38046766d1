// Who the page is: in local mode the OS account (admin, no sign-in), in team mode the signed-in
// account or no one. Loaded once; sign-in and sign-out replace it.
import { reactive } from "vue";
import { api } from "./api";
import type { Me, Role } from "./types";

const ROLES: Role[] = ["viewer", "annotator", "admin"];

export const session = reactive<{ me: Me | null }>({ me: null });

let loading: Promise<Me> | null = null;

/** The current answer of GET /auth/me, fetched on first use. */
export function whoAmI(): Promise<Me> {
  loading ??= api.me().then((me) => (session.me = me));
  return loading;
}

export async function signIn(name: string, password: string): Promise<Me> {
  session.me = await api.login(name, password);
  loading = Promise.resolve(session.me);
  return session.me;
}

export async function signOut(): Promise<void> {
  await api.logout();
  forget();
}

/** The session ended (a 401): ask the server again on the next navigation. */
export function forget(): void {
  session.me = session.me ? { ...session.me, name: null, role: null } : null;
  loading = null;
}

/** Whether the page's account has at least `role` (local mode: always). */
export function can(role: Role): boolean {
  const mine = session.me?.role;
  return !!mine && ROLES.indexOf(mine) >= ROLES.indexOf(role);
}
