import vue from "@vitejs/plugin-vue";
import { defineConfig } from "vitest/config";

// The build goes into the Python package, which the FastAPI server serves.
export default defineConfig({
  plugins: [vue()],
  build: { outDir: "../src/robustar/server/static", emptyOutDir: true },
  server: { proxy: { "/api": "http://127.0.0.1:8000" } },
  test: { environment: "happy-dom", include: ["tests/**/*.test.ts"] },
});
