import { defineConfig } from 'vite';

// keywarden allows exactly the origins in its `cors.origins` (README: `http://localhost:5173`),
// so the dev server must not move to another port when 5173 is taken.
export default defineConfig({
  server: { port: 5173, strictPort: true },
  preview: { port: 5173, strictPort: true },
});
