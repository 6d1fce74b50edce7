// The front-end build (`make assets`): esbuild bundles and minifies one script per page
// kind and the stylesheet into fingerprinted files, the widget loader into one
// unfingerprinted classic script, precompresses each (gzip -9 and brotli 11, once here
// rather than on every request) and writes manifest.json, the map devtone's asset_url()
// reads ("chat.js" → "chat-<hash>.js").
//
//   node tools/build-assets.mjs [OUTDIR]      (default devtone/static/build; emptied first)
//
// The output is committed, so a fresh machine serves it with nothing but Python. The same
// sources and esbuild version give the same bytes on every machine, which is what
// tests/static/test_build.py checks by rebuilding into a temporary directory.
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

import { build } from "esbuild";

const ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));
const SOURCES = "devtone/static";
const outdir = resolve(ROOT, process.argv[2] ?? `${SOURCES}/build`);

// One bundle per page kind: /chat and /embed share chat.js. Keys are the manifest's names.
const PAGES = {
  chat: `${SOURCES}/js/chat.js`,
  dashboard: `${SOURCES}/js/dashboard.js`,
  monitor: `${SOURCES}/js/monitor.js`,
  doctor: `${SOURCES}/js/doctor.js`,
  devtone: `${SOURCES}/css/devtone.css`,
};

const COMMON = {
  absWorkingDir: ROOT,
  bundle: true,
  minify: true,
  charset: "utf8",
  legalComments: "none",
  logLevel: "warning",
};

rmSync(outdir, { recursive: true, force: true });
mkdirSync(outdir, { recursive: true });

const pages = await build({
  ...COMMON,
  entryPoints: PAGES,
  // The syntax the modules are written in (private fields, ?.): nothing to lower.
  format: "esm",
  target: "es2022",
  entryNames: "[name]-[hash]",
  outdir,
  metafile: true,
});

// The widget's chat panel: an ES module the loader imports from devtone's origin only
// when the chat is wanted. Both widget parts target the browsers with import().
const panel = await build({
  ...COMMON,
  entryPoints: { "widget-panel": `${SOURCES}/js/widget/panel.js` },
  format: "esm",
  target: "es2020",
  entryNames: "[name]-[hash]",
  outdir,
  metafile: true,
});

// Manifest names are the sources' paths under js/ or css/: "chat.js", "widget/panel.js".
const manifest = {};
for (const { metafile } of [pages, panel]) {
  for (const [output, { entryPoint }] of Object.entries(metafile.outputs)) {
    if (entryPoint) manifest[entryPoint.replace(/^devtone\/static\/(js|css)\//, "")] = basename(output);
  }
}

// The loader other sites paste: one URL forever (no fingerprint), a classic script that
// knows its panel's fingerprinted name.
await build({
  ...COMMON,
  entryPoints: [`${SOURCES}/js/widget.js`],
  format: "iife",
  target: "es2020",
  define: { WIDGET_PANEL: JSON.stringify(manifest["widget/panel.js"]) },
  outfile: join(outdir, "widget.js"),
});

writeFileSync(join(outdir, "manifest.json"), `${JSON.stringify(sortedKeys(manifest), null, 2)}\n`);

for (const name of readdirSync(outdir)) {
  if (!/\.(js|css)$/.test(name)) continue;
  const bytes = readFileSync(join(outdir, name));
  writeFileSync(join(outdir, `${name}.gz`), gzip(bytes));
  writeFileSync(join(outdir, `${name}.br`), brotli(bytes));
}

function sortedKeys(object) {
  return Object.fromEntries(Object.entries(object).sort(([a], [b]) => a.localeCompare(b)));
}

function gzip(bytes) {
  const compressed = gzipSync(bytes, { level: 9 });
  // The header's OS byte is the build machine's (3 on Linux, 19 on macOS): "unknown"
  // everywhere instead.
  compressed[9] = 255;
  return compressed;
}

function brotli(bytes) {
  return brotliCompressSync(bytes, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
      [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
      [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
    },
  });
}
