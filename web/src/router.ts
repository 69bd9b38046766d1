import { createRouter, createWebHistory } from "vue-router";
import AnnotateView from "./views/AnnotateView.vue";
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
    { path: "/:rest(.*)", redirect: "/" },
  ],
});
