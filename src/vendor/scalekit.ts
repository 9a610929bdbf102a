// dist/vendor/scalekit.js: the Scalekit SDK, loaded on the first connection check (src/core/sdkLoader.ts).
export { ScalekitClient } from '@scalekit-sdk/node';
