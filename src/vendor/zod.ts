// dist/vendor/zod.js: zod/mini, loaded on the first webview message or saved conversation read
// (src/core/sdkLoader.ts). Only the functions the two schemas use are exported, so the bundle
// keeps just those (zod/mini is built to tree-shake; classic zod's methods pull in all of it).
import { config } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

export {
  array,
  boolean,
  discriminatedUnion,
  enum,
  literal,
  looseObject,
  maxLength,
  minLength,
  number,
  object,
  record,
  regex,
  strictObject,
  string,
  trim,
  union,
  unknown,
} from 'zod/mini';

// zod/mini ships no messages ("Invalid input" for everything) until a locale is set: the
// English one gives the same clear reasons as classic zod ("Too big: expected string to
// have <=32000 characters"). Global to this bundle's zod only; the MCP SDK bundles its own.
config(en());
