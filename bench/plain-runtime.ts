/**
 * Benchmarks run their TypeScript through tsx, which turns on source-map support for the
 * whole process and so makes every captured stack trace costlier. Each benchmark process
 * imports this first, so every path (ours and the naive baselines) runs as plain `node`
 * runs it.
 */
process.setSourceMapsEnabled(false);
