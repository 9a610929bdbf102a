// dist/vendor/jose.js: jose, loaded on the first ID token check (OIDC sign-in, enterprise access) (src/core/sdkLoader.ts).
export { createRemoteJWKSet, customFetch, decodeJwt, jwtVerify } from 'jose';
