import { createRouter, createWebHistory } from "vue-router";
import { onSignedOut } from "./api";
import { can, forget, whoAmI } from "./session";
import AnnotateView from "./views/AnnotateView.vue";
import AuditView from "./views/AuditView.vue";
import EditPreviewView from "./views/EditPreviewView.vue";
import EditsView from "./views/EditsView.vue";
import LoginView from "./views/LoginView.vue";
import MadView from "./views/MadView.vue";
import DefuseView from "./views/DefuseView.vue";
import RateView from "./views/RateView.vue";
import UsersView from "./views/UsersView.vue";
import WorkView from "./views/WorkView.vue";
import GalleryView from "./views/GalleryView.vue";
import HomeView from "./views/HomeView.vue";
import ImageView from "./views/ImageView.vue";
import ModelsView from "./views/ModelsView.vue";
import ReviewView from "./views/ReviewView.vue";
import SuspiciousView from "./views/SuspiciousView.vue";
import TasksView from "./views/TasksView.vue";
import TrainView from "./views/TrainView.vue";

export const router = createRouter({
  history: createWebHistory(),
  routes: [
    { path: "/", name: "home", component: HomeView },
    { path: "/gallery/:split", name: "gallery", component: GalleryView },
    { path: "/gallery/:split/images/:id", name: "image", component: ImageView },
    { path: "/gallery/:split/images/:id/annotate", name: "annotate", component: AnnotateView },
    { path: "/models", name: "models", component: ModelsView },
    { path: "/tasks", name: "tasks", component: TasksView },
    { path: "/review", name: "review", component: ReviewView },
    { path: "/suspicious", name: "suspicious", component: SuspiciousView },
    { path: "/train", name: "train", component: TrainView },
    { path: "/edits", name: "edits", component: EditsView },
    { path: "/edits/preview/:id", name: "edit-preview", component: EditPreviewView },
    { path: "/mad", name: "mad", component: MadView },
    { path: "/defuse", name: "defuse", component: DefuseView },
    { path: "/mad/rate/:round", name: "mad-rate", component: RateView },
    { path: "/login", name: "login", component: LoginView, meta: { public: true } },
    { path: "/users", name: "users", component: UsersView, meta: { admin: true } },
    { path: "/audit", name: "audit", component: AuditView, meta: { admin: true } },
    { path: "/work", name: "work", component: WorkView, meta: { annotator: true, team: true } },
    { path: "/:rest(.*)", redirect: "/" },
  ],
});

// Team mode: no page but the sign-in before signing in; admin pages for admins only; work
// queues for annotators (and not in local mode: one person assigns nothing to anyone).
router.beforeEach(async (to) => {
  const me = await whoAmI().catch(() => null);
  if (to.meta.team && me && !me.team) return "/";
  if (!me?.team || to.meta.public) return true;
  if (me.name === null) return { name: "login", query: { next: to.fullPath } };
  if (to.meta.admin && !can("admin")) return "/";
  if (to.meta.annotator && !can("annotator")) return "/";
  return true;
});

onSignedOut.handler = () => {
  forget();
  const here = router.currentRoute.value;
  if (!here.meta.public) void router.push({ name: "login", query: { next: here.fullPath } });
};
