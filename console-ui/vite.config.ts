import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'

// The build goes straight into the Python package, where `mount_ui` serves it.
export default defineConfig({
  plugins: [vue()],
  base: '/',
  build: {
    outDir: '../ari_app/console/static_dist', // relative to this folder
    emptyOutDir: true,
    assetsDir: 'assets',
    target: 'es2020',
  },
  server: {
    // `npm run dev` against a running `secretary run`
    proxy: { '/api': { target: 'http://127.0.0.1:8080', ws: true } },
  },
})
