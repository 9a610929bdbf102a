// dist/vendor/validation.js: Ajv and re2js, loaded on the first tool-input check (src/core/sdkLoader.ts).
export { default as Ajv } from 'ajv';
export { RE2JS } from 're2js';
