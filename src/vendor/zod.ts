// dist/vendor/zod.js: zod, loaded on the first webview message or saved conversation read (src/core/sdkLoader.ts).
export { z } from 'zod';
