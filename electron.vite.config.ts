import { resolve } from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'electron-vite';

// Custom roots: electron/ for main and preload, renderer/ for the UI. Output goes to out/{main,preload,renderer}.
export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      externalizeDeps: true,
      // The core runs in its own process (a utilityProcess supervised by main): a second entry beside main's.
      rollupOptions: { input: { index: resolve('electron/main/index.ts'), 'core-process': resolve('electron/core-process/index.ts') } },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      // A sandboxed preload can require only `electron`: bundle everything else into one CommonJS file.
      externalizeDeps: false,
      rollupOptions: {
        input: { index: resolve('electron/preload/index.ts') },
        external: ['electron'],
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: 'renderer',
    plugins: [react()],
    build: {
      outDir: resolve('out/renderer'),
      // electron-vite leaves bundles unminified; the UI's bundle (React, AG Grid) loads and parses markedly faster
      // minified, which is most of the time to the returns grid's first rows.
      minify: true,
      rollupOptions: { input: resolve('renderer/index.html') },
    },
  },
});
