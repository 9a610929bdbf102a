// dist/vendor/anthropic.js: the Anthropic SDK, loaded on the first message (src/core/sdkLoader.ts).
export * from '@anthropic-ai/sdk';
export { default } from '@anthropic-ai/sdk';
