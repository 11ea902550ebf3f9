import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// `pnpm dev` proxies the API to a server on :3000 (`pnpm start`); the build is served by the server itself.
export default defineConfig({
  plugins: [react()],
  server: {
    proxy: {
      '/trpc': { target: 'http://127.0.0.1:3000', ws: true },
    },
  },
  build: { sourcemap: false, chunkSizeWarningLimit: 800 },
});
