export { consolePlugin, type ConsolePluginOptions } from './plugin.js';
export { loadConsoleAssets, DEFAULT_ASSETS_DIR, type ConsoleAsset } from './assets.js';
export { DEFAULT_LIVE_TIMING, entityFromEnter, type LiveTiming, type SinkStatusSource, type Wakeup } from './live.js';
